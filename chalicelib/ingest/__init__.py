"""chalicelib.ingest."""
