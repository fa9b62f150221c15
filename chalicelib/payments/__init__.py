"""chalicelib.payments."""
