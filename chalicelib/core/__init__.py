"""chalicelib.core."""
