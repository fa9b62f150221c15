"""Card-event stream, risk scoring, fraud actions (issue 12).

Rooms: ``events`` (the versioned wire schema), ``stream`` (applying events to transactions,
idempotently and in order per card), ``scoring``/``adapters`` (rules engine, SageMaker and Fraud
Detector behind a breaker, selective invocation), ``actions`` (hold / decline / review, notices,
card management), ``generator`` + ``__main__`` (deterministic streams and the replay CLI).
"""
