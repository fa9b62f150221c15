"""A customer says a held payment was not theirs: keep it blocked, hand it to the fraud team, offer a card block.

Why this is its own path and not "no, leave it": a disowned payment is a fraud report. Dropping it
("OK, I've left it as it is") loses the report; starting a release would let the fraudster's
payment through. The hold is never touched here, the fraud queue gets the context at once (so the
report survives the customer closing the chat), and only then is the card block offered. A yes
blocks the card now through the card-management adapter (intents/card_block.py) and offers a
dispute for the card's other recent payments; if the adapter fails, the block goes to a specialist
as its own handoff and the reply says so rather than claiming it is done.
"""
from __future__ import annotations

import re

from chalicelib.core.models import FraudDecision, Transaction
from intents.dialog import ATTR_HANDOFF, Button, Card, Decision, Turn
from intents.replies import money, render
from intents.card_block import block_card, dispute_offer
from intents.handoff import escalate
from intents.answers import BLOCK_CARD, Answer, answer_text, claims_own, clarified_before, mark_clarified, read_answer

REASON_NOT_ME = "fraud_reported_by_customer"
REASON_BLOCK = "card_block_requested"
REASON_UNCLEAR = "unclear_answer"
MAX_SAID = 300

BLOCK_CARD_CARD = Card(title="Block your card?", buttons=(Button("Block my card", "yes, block my card"),
                                                          Button("Talk to the fraud team", "no, just the fraud team")))


def _said(turn: Turn) -> str:
    from nlp.redact import redact

    return redact(turn.transcript or "").text[:MAX_SAID]


def _context(turn: Turn, txn: Transaction, fd: FraudDecision, **more) -> dict:
    return {"txn_id": txn.txn_id, "fraud_decision_id": fd.decision_id, "reason_codes": list(fd.reason_codes),
            "card_last4": txn.card_last4, "hold_released": fd.released, "customer_said": _said(turn), **more}


def report_not_me(turn: Turn, txn: Transaction, fd: FraudDecision, **more) -> Decision:
    """Hand the disowned payment to the fraud queue now, then offer the card block in the same chat.
    ``more``: what else the fraud team should know (who used the card, without permission)."""
    key = "hold_not_me_released" if fd.released else "hold_not_me"  # released a moment ago: it may still be stopped
    handed = escalate(turn, REASON_NOT_ME,
                      render(key, amount=money(txn.amount_minor, txn.currency), merchant=txn.merchant_name),
                      _context(turn, txn, fd, card_block_requested=False, **more))
    slots = {**turn.slots, "ReleaseHold": None, "BlockCard": None}
    return Decision(action="ElicitSlot", slot_to_elicit="BlockCard", slots=slots, session=handed.session,
                    messages=handed.messages + [render("hold_offer_block", last4=txn.card_last4)], card=BLOCK_CARD_CARD,
                    facts={**handed.facts, "hold_kept": True, "not_me": True})


def block_card_answer(turn: Turn, txn: Transaction, fd: FraudDecision) -> Decision:
    """The answer to "block your card too?": a yes is recorded for the specialist, never faked as done."""
    text = answer_text(turn, "BlockCard")
    answer = read_answer(text, BLOCK_CARD) if text else Answer.UNCLEAR
    fraud_ref = turn.session.get(ATTR_HANDOFF)
    if text and claims_own(text) and not re.search(r"\b(?:block|freeze|lock|cancel|stop)", text, re.I):
        # "Actually it was me" after a fraud report: nothing is blocked, and nothing is released in
        # chat either (a report taken back is for the fraud team to check with the customer).
        return Decision(action="Close", intent_state="Fulfilled", session=dict(turn.session),
                        slots={**turn.slots, "BlockCard": None}, facts={"hold_kept": True, "report_taken_back": True},
                        messages=[render("hold_report_taken_back", amount=money(txn.amount_minor, txn.currency),
                                         merchant=txn.merchant_name, last4=txn.card_last4, ref=fraud_ref or "")])
    if answer is Answer.YES:
        if block_card(turn, txn, fraud_ref):  # done now through the card-management adapter, and said so
            messages = [render("card_blocked", last4=txn.card_last4)] + dispute_offer(turn, txn)
            if fraud_ref:
                messages.append(render("handoff_reference", ref=fraud_ref))
            return Decision(action="Close", intent_state="Fulfilled", session=dict(turn.session), messages=messages,
                            slots={**turn.slots, "BlockCard": None}, facts={"hold_kept": True, "card_blocked": True})
        return escalate(turn, REASON_BLOCK, render("card_block_failed", last4=txn.card_last4),
                        _context(turn, txn, fd, card_block_requested=True, fraud_handoff_id=fraud_ref))
    if answer is Answer.NO or clarified_before(turn, "BlockCard"):
        key = "card_block_declined" if answer is Answer.NO else "card_block_unclear"
        return Decision(action="Close", intent_state="Fulfilled", session=dict(turn.session),
                        messages=[render(key, last4=txn.card_last4), render("handoff_reference", ref=fraud_ref or "")]
                        if fraud_ref else [render(key, last4=txn.card_last4)],
                        slots={**turn.slots, "BlockCard": None}, facts={"hold_kept": True})
    return Decision(action="ElicitSlot", slot_to_elicit="BlockCard", slots={**turn.slots, "BlockCard": None},
                    session=mark_clarified(turn.session, turn, "BlockCard"), card=BLOCK_CARD_CARD,
                    messages=[render("clarify_block", last4=txn.card_last4)])


def unclear_twice(turn: Turn, txn: Transaction, fd: FraudDecision, **more) -> Decision:
    """Two unclear answers about a held payment: a person asks, rather than the bot guessing or looping."""
    return escalate(turn, REASON_UNCLEAR, render("unclear_handoff"), _context(turn, txn, fd, **{"question": "was_it_you", **more}))
