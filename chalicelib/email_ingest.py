"""`python -m chalicelib.email_ingest`: the documented command, kept where scripts expect it.

The code lives in :mod:`chalicelib.ingest.email_ingest`; the service comes from the composition root
(it needs the nlp triage, which chalicelib never imports itself): the one import of this package
upwards, named in .importlinter."""
from chatbot.bootstrap import email_ingest_cli as main

if __name__ == "__main__":
    raise SystemExit(main())
