"""The customer is told first: a chat that opens with a plain hello starts with the payment we stopped.

Why here, before any intent: a held or declined payment is the most likely reason a customer opens
the chat at all, and they may never ask ("why is my payment on hold") in words the bot maps to it.
So the first turn of a signed-in chat that carries no request of its own (an empty opening, the
web chat's open, "hi") looks for an unreleased hold or decline of the last few days that the
customer has not yet been told about *in chat*, and asks about it with ExplainHold's yes/no card:
yes goes through step-up to the release, no to the fraud path (card block, dispute, fraud queue).

"Told in chat" is a decision-log record (action ``fraud_hold_told``) under an id derived from the
fraud decision: append-only, audited, and idempotent, so a retried turn or a second chat does not
ask twice. The SMS notice does not count: the customer has not answered it.
"""
from __future__ import annotations

import re
from datetime import timedelta

from chalicelib.core.models import FraudAction, FraudDecision, Transaction
from chalicelib.governance.decision_log import derive_decision_id
from intents.dialog import Decision, Turn
from intents.replies import money, render

TELL_WITHIN_DAYS = 7
OPENERS = ("FallbackIntent", "SmallTalk")  # "hi" is small talk to Lex; an opening greeting still hears about a hold first
GREETING = re.compile(r"^\s*(hi+|hello+|hey+|hiya|yo|good (morning|afternoon|evening)|morning|evening|"
                      r"hi there|hello there|start|open)[\s!.,]*$", re.IGNORECASE)
TOLD_ACTION = "fraud_hold_told"


def is_opening(turn: Turn, first_turn: bool) -> bool:
    """The first turn of the chat, carrying no request of its own."""
    return (first_turn and turn.intent_name in OPENERS and turn.identity.verified
            and (not (turn.transcript or "").strip() or bool(GREETING.match(turn.transcript))))


def told_id(fd: FraudDecision) -> str:
    return derive_decision_id(TOLD_ACTION, fd.customer_id, fd.decision_id)


def untold(turn: Turn) -> tuple[Transaction, FraudDecision] | None:
    """The payment to tell about: holds before declines (a hold can still go through), newest first."""
    store, log = turn.services.store, turn.services.governance.log
    cid = turn.identity.customer_id
    since = turn.now - timedelta(days=TELL_WITHIN_DAYS)
    found = []
    for fd in store.fraud.list_for_customer(cid):
        if fd.released or fd.action is FraudAction.review or fd.created_at < since or log.get(told_id(fd)):
            continue
        txn = store.transactions.get(cid, fd.txn_id)
        if txn is not None:
            found.append((fd.action is not FraudAction.hold, -txn.occurred_at.timestamp(), txn.txn_id, txn, fd))
    if not found:
        return None
    *_, txn, fd = min(found)
    return txn, fd


def tell_first(turn: Turn) -> Decision | None:
    """ExplainHold's "was it you?" about the untold payment, or None when there is nothing to tell."""
    from intents.payment_picker import remember_txn
    from intents.explain_hold import YES_NO_CARD
    from intents.hold_questions import asked_was_it_you

    found = untold(turn)
    if found is None:
        return None
    txn, fd = found
    turn.services.governance.log.record(
        action=TOLD_ACTION, outcome="asked", actor="assistant", channel="chat", customer_id=txn.customer_id,
        subject={"txn_id": txn.txn_id, "fraud_decision_id": fd.decision_id}, decision_id=told_id(fd),
        explanation=f"Chat opened: the customer was told about the {fd.action.value} first and asked if it was them.")
    text = render("proactive_hold", amount=money(txn.amount_minor, txn.currency), merchant=txn.merchant_name,
                  last4=txn.card_last4, declined=fd.action is FraudAction.decline)
    return Decision(action="ElicitSlot", intent_name="ExplainHold", slot_to_elicit="ReleaseHold",
                    slots={"ReleaseHold": None}, session=asked_was_it_you(remember_txn(turn.session, txn)), messages=[text],
                    card=YES_NO_CARD, facts={"told_first": fd.decision_id})
