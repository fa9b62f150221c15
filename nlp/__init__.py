"""Triage pipeline: email parsing, PII redaction, entities, intent classifier, sentiment, urgency,
and the Comprehend tier. Heavy models load lazily, never on import."""
