"""`python -m chalicelib.demo_data`: the documented command, kept where scripts expect it.

The code lives in :mod:`chalicelib.demo.demo_data`."""
from chalicelib.demo.demo_data import main

if __name__ == "__main__":
    raise SystemExit(main())
