"""The customer's side of a fraud incident, as metrics and incident log lines: their answer to a
hold (and how long after the notice it came), a release, a confirmed fraud.

Why counted here: the stream knows when a hold was placed and the notice sent, but only the chat
knows when and how the customer answered. The time to the customer's response runs from the hold's
decision (its notice is sent in the same batch commit) to the turn that carried the answer, and is
counted once per hold and session: the "yes" that comes back after step-up verification is the
same answer, not a second one.
"""
from __future__ import annotations

from chalicelib.core.models import FraudDecision, Transaction
from intents.dialog import Turn, now_of

ATTR_ANSWERED = "fraudAnswerTimed"  # the fraud decision whose answer this session already timed


def _metrics(turn: Turn):
    return getattr(turn.services, "metrics", None)


def _fields(txn: Transaction, fd: FraudDecision) -> dict:
    return {"fraud_decision_id": fd.decision_id, "txn_id": txn.txn_id, "card_last4": txn.card_last4,
            "amount_minor": txn.amount_minor, "currency": txn.currency, "hold_action": fd.action.value}


def customer_answered(turn: Turn, txn: Transaction, fd: FraudDecision, answer: str) -> tuple[Turn, bool]:
    """(the turn remembering it, whether this was the first answer to this hold in the session)."""
    if turn.session.get(ATTR_ANSWERED) == fd.decision_id:
        return turn, False
    metrics = _metrics(turn)
    if metrics is not None:
        seconds = (now_of(turn) - fd.created_at).total_seconds()
        metrics.time_to_customer_response(seconds, answer, **_fields(txn, fd))
    return turn.with_(session={**turn.session, ATTR_ANSWERED: fd.decision_id}), True


def released(turn: Turn, txn: Transaction, fd: FraudDecision, decision_id: str | None) -> None:
    metrics = _metrics(turn)
    if metrics is not None:
        metrics.hold_released(release_decision_id=decision_id, **_fields(txn, fd))


def confirmed(turn: Turn, txn: Transaction, fd: FraudDecision) -> None:
    metrics = _metrics(turn)
    if metrics is not None:
        metrics.fraud_confirmed(**_fields(txn, fd))
