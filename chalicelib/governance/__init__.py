"""chalicelib.governance."""
