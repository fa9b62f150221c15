"""lexv2."""
