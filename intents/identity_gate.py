"""The identity gate: account data only for a verified customer, and step-up without starting over.

Every account read goes through ``turn.identity.customer_id`` (the verified customer) and the
store's customer-scoped keys; nothing a customer types is ever used as a customer id.
"""
from __future__ import annotations

from intents.dialog import ATTR_PENDING_INTENT, Decision, Turn, set_json_attr
from intents.handoff import escalate, redacted
from intents.replies import render

# Intents that show account data and so need a verified customer.
NEEDS_IDENTITY = {"LookupTransaction", "ExplainHold", "FileDispute", "DisputeStatus"}


def require_identity(turn: Turn) -> Decision | None:
    """None when the customer is verified; otherwise the decision that starts step-up.

    The intent the customer asked for is parked in the session (name + slots) and resumed by
    VerifyIdentity once the one-time code checks out, so they never have to repeat themselves.
    """
    if turn.identity.locked:
        return escalate(turn, "lockout", render("verify_locked"))
    if turn.identity.verified:
        return None
    session = dict(turn.session)
    set_json_attr(session, ATTR_PENDING_INTENT, {"name": turn.intent_name, "slots": parked_slots(turn.slots)})
    return Decision(
        action="ElicitSlot",
        intent_name="VerifyIdentity",
        slot_to_elicit="CardLast4",
        slots={"CardLast4": None, "DateOfBirth": None, "OneTimeCode": None},
        messages=[render("verify_intro"), render("verify_ask_last4")],
        session=session,
        facts={"step_up": "started"},
    )


def parked_slots(slots: dict[str, str | None]) -> dict[str, str | None]:
    """Session attributes hold state, never the customer's raw words: a redacted copy is parked."""
    return {k: (v if v is None else redacted(str(v)[:200])) for k, v in slots.items()}
