"""Which request? When the two likeliest readings of a message are too close to call, ask once.

Guessing wrong between "check a payment" and "dispute it" costs the customer more than one short
question: a dispute filed on a lookup, or a lookup closed on a dispute. So the fallback, when the
utterance matcher's top two intents are close (and nothing surer answered), offers both as buttons.
Each button's value is a sentence the bot maps to its intent with certainty and, when the message
named one of the customer's payments, that payment's merchant, so the parked request carries on
with the payment already chosen ("I want to dispute the Amazon Marketplace payment").
"""
from __future__ import annotations

from typing import Any

from intents.dialog import Button, Card, Decision, Turn
from intents.replies import money, render

CLARIFY_MIN_SCORE = 0.25  # below this neither reading is likely: the fallback asks as usual
CLARIFY_MARGIN = 0.04  # the recogniser's own margin: closer than this is too close to call

# label, value without a payment, value with one ({m} is the merchant)
CHOICES: dict[str, tuple[str, str, str]] = {
    "LookupTransaction": ("Check a payment", "Look up a payment", "show me the {m} charge"),
    "FileDispute": ("Dispute a charge", "I want to dispute a charge", "I want to dispute the {m} payment"),
    "ExplainHold": ("Declined or held payment", "Why was my card declined", "why was my {m} payment declined"),
    "DisputeStatus": ("Dispute status", "What's the status of my dispute", "What's the status of my dispute"),
    "WithdrawDispute": ("Withdraw a dispute", "I want to withdraw my dispute", "I want to withdraw my dispute"),
    "TalkToAgent": ("Talk to an agent", "Talk to an agent", "Talk to an agent"),
    "LostCard": ("Lost or stolen card", "I lost my card", "I lost my card"),
}


def too_close(guess: Any) -> tuple[str, str] | None:
    """The two intents to offer, when the matcher's best two are both likely and too close to call."""
    if guess is None or guess.confident or not getattr(guess, "runner_up", None):
        return None
    pair = (guess.intent, guess.runner_up)
    if not all(p in CHOICES for p in pair) or guess.intent == guess.runner_up:
        return None
    if guess.runner_up_score < CLARIFY_MIN_SCORE or guess.score - guess.runner_up_score >= CLARIFY_MARGIN:
        return None
    return pair


PAYMENT_INTENTS = frozenset({"LookupTransaction", "FileDispute", "ExplainHold"})


def ask_which(turn: Turn, pair: tuple[str, str]) -> Decision | None:
    """One short question with the two readings as buttons; None when a payment is named but the two
    readings are not about a payment (the matcher's guesses are then noise, and the payment decides)."""
    from intents.payment_picker import find_transactions_in_text, remember_txn

    named = find_transactions_in_text(turn, turn.transcript or "", named_only=True) if turn.identity.customer_id else []
    if named and not set(pair) <= PAYMENT_INTENTS:
        return None
    merchant = named[0].merchant_name if len({t.merchant_name for t in named}) == 1 else None
    buttons = []
    for intent in pair:
        label, plain, with_payment = CHOICES[intent]
        buttons.append(Button(label, (with_payment.format(m=merchant) if merchant else plain)[:1000]))
    # Parked by id as well, for a customer who types the label instead of pressing the button.
    session = remember_txn(turn.session, named[0]) if len(named) == 1 else dict(turn.session)
    one = named[0] if len(named) == 1 else None
    txn = f"the {money(one.amount_minor, one.currency)} payment to {one.merchant_name}" if one else ""
    return Decision(action="ElicitIntent", messages=[render("clarify_intent", txn=txn)], session=session,
                    card=Card(title=render("clarify_intent_title"), buttons=tuple(buttons)),
                    facts={"clarify_intents": list(pair)})
