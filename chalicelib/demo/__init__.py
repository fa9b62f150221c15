"""chalicelib.demo."""
