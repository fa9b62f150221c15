"""One module per Lex intent: its spec (utterances, slots, prompts) beside its handler."""
