"""Correcting a dispute before it is filed: after "no" at the confirmation, which detail to change.

Kept apart from FileDispute's main dialog so each stays small; the change clears the slots that
depend on the corrected detail, and the dialog then asks them again as if for the first time.
"""
from __future__ import annotations

from intents.dialog import Button, Card, Decision, Turn
from intents.replies import render

CHANGE_CARD = Card(title="Change what?", buttons=(Button("The payment", "payment"), Button("The reason", "reason"),
                                                  Button("The amount", "amount"), Button("The description", "description"),
                                                  Button("Cancel", "cancel")))


def ask_what_to_change(turn: Turn, slots: dict) -> Decision:
    slots = {**slots, "Change": None}
    return Decision(action="ElicitSlot", slot_to_elicit="Change", slots=slots, session=dict(turn.session),
                    messages=[render("dispute_what_change")], card=CHANGE_CARD)


_CHANGE_CLEARS = {
    "payment": ("TransactionRef", "DisputeReason", "DisputedAmount", "MerchantContacted", "Description"),
    "reason": ("DisputeReason", "DisputedAmount"),
    "amount": ("DisputedAmount",),
    "description": ("Description",),
}


def validate_change(value: str | None) -> str | None:
    if not value:
        return None
    v = value.strip().lower()
    for option in ("payment", "reason", "amount", "description", "cancel"):
        if option in v:
            return option
    for option, words in (("payment", ("transaction", "charge")), ("cancel", ("nothing", "stop", "never mind", "forget"))):
        if any(w in v for w in words):
            return option
    return None


def apply_change(turn: Turn) -> Turn | Decision:
    """After "no" at the confirmation: clear the detail to correct, so the dialog re-asks it."""
    choice = validate_change(turn.slot("Change") or turn.transcript)
    if choice is None:
        slots = {**turn.slots, "Change": None}
        return Decision(action="ElicitSlot", slot_to_elicit="Change", slots=slots, session=dict(turn.session),
                        messages=[render("dispute_what_change")])
    if choice == "cancel":
        return Decision(action="Close", intent_state="Failed", session=dict(turn.session), messages=[render("dispute_not_filed")])
    slots = dict(turn.slots)
    slots["Change"] = None
    for name in _CHANGE_CLEARS[choice]:
        slots[name] = None
    session = dict(turn.session)
    if choice == "payment":
        session.pop("lastTxnId", None)
        session.pop("candidates", None)
    return turn.with_(slots=slots, session=session, confirmation_state="None", slot_to_elicit=None, transcript="")
