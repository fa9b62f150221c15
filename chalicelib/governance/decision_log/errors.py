"""What can go wrong when recording or reading a decision, as exceptions callers can catch."""
from __future__ import annotations


class DecisionLogError(Exception):
    """The decision could not be recorded or read."""


class PiiRejected(DecisionLogError, ValueError):
    """A decision carried something that looks like raw personal data (a card number)."""


class ChainContention(DecisionLogError):
    """Could not append after many retries: too many concurrent writers on the chain head."""


class DuplicateDecisionId(DecisionLogError):
    """The decision id is already recorded (a store raises it; the log answers with the stored record)."""
