"""Lex V2 protocol and dialog layer (see DESIGN.md)."""
