"""`python -m chalicelib.email_ingest`: the documented command, kept where scripts expect it.

The code lives in :mod:`chalicelib.ingest.email_ingest`."""
from chalicelib.ingest.email_ingest import main

if __name__ == "__main__":
    raise SystemExit(main())
