"""From a chat handoff to a ticket: what the conversation knows (who, how verified, which payment,
the decision just logged) handed to the ticket desk in the terms it expects."""
from __future__ import annotations

from chalicelib.core.clock import outbound_time
from chalicelib.tickets.context_bundle import conversation
from intents.dialog import ATTR_LAST_TXN, Turn, now_of


def redact_text(text: str) -> str:
    """The NLP redactor (CVVs, dates of birth, card numbers in free text) as a plain str -> str,
    for chalicelib code that may not import nlp."""
    from nlp.redact import redact

    return redact(text or "").text


def identity_level(turn: Turn) -> str:
    ident = turn.identity
    if ident.locked:
        return "locked_out"
    if not ident.verified:
        return "anonymous"
    return "token_verified" if ident.method == "token" else "step_up_verified"


def open_ticket_for(desk, turn: Turn, handoff, decision_id: str | None, extra: dict):
    txn_id = turn.session.get(ATTR_LAST_TXN) or extra.get("txn_id")
    decisions = []
    if decision_id:
        decisions.append({"decision_id": decision_id, "at": handoff.created_at, "actor": "assistant", "action": "handoff",
                          "outcome": "escalate", "reasons": [handoff.reason], "explanation": f"escalated: {handoff.reason}"})
    transcripts = getattr(turn.services, "transcripts", None)
    # The conversation this customer may see, both sides, already redacted (chalicelib/transcripts):
    # read for the handoff's customer, so another customer's turns in this session never reach it.
    messages = transcripts.conversation(turn.session_id, handoff.customer_id, now_of(turn)) if transcripts else None
    if messages is not None and turn.transcript.strip():  # this turn is recorded once it is answered
        messages.append({"role": "customer", "text": redact_text(turn.transcript), "at": outbound_time(now_of(turn))})
    if messages:
        # The bundle's window, applied before the escalation queue (an SQS message is at most 256 KiB;
        # a session may hold 400 turns). The bundle's window then counts from what the queue carried.
        messages = conversation("chat", messages)["messages"]
    return desk.escalate(handoff, identity_level=identity_level(turn), txn_id=txn_id[:64] if txn_id else None,
                         decisions=decisions, triage=extra.get("triage") if isinstance(extra.get("triage"), dict) else None,
                         messages=messages or None)
