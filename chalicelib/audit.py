"""`python -m chalicelib.audit`: the documented command, kept where scripts expect it.

The code lives in :mod:`chalicelib.governance.audit`."""
from chalicelib.governance.audit import main

if __name__ == "__main__":
    raise SystemExit(main())
