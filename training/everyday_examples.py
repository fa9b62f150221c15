"""Review decisions for the everyday phrasings added to the intents in issue 13 B (see training/intent_examples.py).

Each sample utterance gets a BANKING77 label when a customer saying it would be labelled so in that
dataset, or None with the reason it must not be trained into one (a status question, a lookup, a
request for a person: no BANKING77 label says that).
"""
from __future__ import annotations

NO_LOOKUP = "a payment lookup: no BANKING77 label"
NO_STATUS = "a dispute-status question: no BANKING77 label"
NO_PERSON = "a request for a person: no BANKING77 label"
NO_MEANING = "asks what a dispute status means: no BANKING77 label"
NOT_RECOGNISED = "card_payment_not_recognised"
DECLINED = "declined_card_payment"
PENDING = "pending_card_payment"
NOT_WORKING = "card_not_working"

_REVIEWED: dict[str, dict[str, tuple[str | None, str]]] = {
    "LookupTransaction": {u: (None, NO_LOOKUP) for u in (
        "how much did I spend at {Merchant}", "how much have I spent on {Merchant}", "what did I spend yesterday",
        "show me my last payment", "what have I paid recently", "payment to {Merchant} on {TransactionDate}",
        "check my {Merchant} payment", "check the payment at {Merchant}", "check the payment from {TransactionDate}")}
    | {"did my {Merchant} payment come out": (PENDING, ""), "has {Merchant} taken the money": (PENDING, "")},
    "ExplainHold": {u: (DECLINED, "") for u in (
        "my card keeps being declined", "my card was rejected", "my payment was rejected", "my payment failed",
        "the transaction failed at {Merchant}", "my card was knocked back", "the shop wouldn't accept my card",
        "the payment wouldn't go through", "my payment at {Merchant} failed", "my card got declined at {Merchant}",
        "declined at {Merchant}")}
    | {u: (NOT_WORKING, "") for u in ("my card isn't working", "my card won't work", "why can't I use my card")}
    | {u: (PENDING, "") for u in ("why is my payment stuck", "why is my payment pending review",
                                   "my purchase is on hold", "my {Merchant} payment is held")},
    "FileDispute": {u: (NOT_RECOGNISED, "") for u in (
        "this payment is fraud", "that charge is a scam", "a dodgy charge on my account", "I never made this purchase",
        "I didn't authorise this payment", "unauthorized charge on my card", "this transaction isn't mine",
        "this charge wasn't me", "random charge on my statement", "never heard of this company but they charged me",
        "I never bought anything from {TransactionRef}", "a bogus payment on my card", "that's a fake charge",
        "a payment I know nothing about", "I never paid these people")}
    | {u: ("compromised_card", "") for u in ("someone is using my card", "I think my card was used by someone else")}
    | {u: ("request_refund", "") for u in (
        "reverse the charge", "can you reverse a payment", "how do I get my money back",
        "get my money back from {TransactionRef}", "charge back the payment")}
    | {"I want a refund for a payment I didn't make": (NOT_RECOGNISED, ""),
       "I was billed twice for the same thing": ("transaction_charged_twice", ""),
       "they charged me more than the price": ("extra_charge_on_statement", "")}
    | {u: (None, "goods not received or a scam by a seller: no BANKING77 label (its labels are card and "
                 "transfer operations)") for u in (
        "I've been scammed", "I was ripped off by a seller", "my order never arrived", "the parcel never turned up",
        "I paid but never got the goods", "they took my money and sent nothing")},
    "DisputeStatus": {u: (None, NO_STATUS) for u in (
        "any news on my dispute", "any progress with my claim", "how's my claim coming along", "where's my claim",
        "where are you with my dispute", "have you sorted my dispute", "what's going on with my case",
        "what's happening with my chargeback", "is my case still open", "is the dispute closed yet",
        "I'm still waiting to hear back about my dispute", "when do I hear back about my claim",
        "where is my dispute at", "has a decision been made on my claim", "has my claim been decided")}
    | {"any word on my refund claim": ("Refund_not_showing_up", "")}
    | {u: (None, NO_MEANING) for u in (
        "what does under review mean", "what does provisional credit mean", "what does awaiting customer mean")},
    "TalkToAgent": {u: (None, NO_PERSON) for u in (
        "get me someone who can actually help", "I need to speak to somebody", "put me through to a person",
        "can a human help me", "let me speak to your manager", "is there anyone real I can talk to")},
}


def everyday_table() -> dict[tuple[str, str], tuple[str | None, str]]:
    return {(intent, utt): decision for intent, rows in _REVIEWED.items() for utt, decision in rows.items()}
