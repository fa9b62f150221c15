"""Dispute reasons: the card-network reason families, how customers say them, and reading them.

Its own module so the words customers use for each reason ("it wasn't me", "never turned up") are
reviewed in one place, apart from the dialog that asks for them (intents/file_dispute.py).
"""
from __future__ import annotations

import re

from chalicelib.core.models import DisputeReason

REASONS: dict[str, list[str]] = {
    "unauthorised": ["unauthorized", "I don't recognise it", "I don't recognize it", "not me", "fraud", "I didn't make it",
                     "stolen card", "someone used my card", "not recognised", "not recognized", "wasn't me", "it wasn't me",
                     "not mine", "isn't mine", "never heard of them", "scam", "scammed", "bogus", "fraudulent", "didn't buy"],
    "duplicate": ["charged twice", "double charge", "duplicate charge", "paid twice", "charged two times"],
    "wrong_amount": ["wrong amount", "overcharged", "charged too much", "incorrect amount", "wrong exchange rate", "extra charge"],
    "not_received": ["never arrived", "didn't receive it", "not received", "goods not received", "service not provided", "never got it",
                     "didn't arrive", "hasn't arrived", "never came", "never delivered", "not delivered", "didn't turn up"],
    "not_as_described": ["not as described", "damaged", "faulty", "broken", "counterfeit", "different from what I ordered"],
    "refund_not_processed": ["refund not received", "no refund", "returned it", "refund missing", "they promised a refund"],
    "cancelled_subscription": ["cancelled subscription", "subscription", "cancelled membership", "still charging after cancelling",
                               "recurring payment"],
}
REASON_LABELS = {
    "unauthorised": "I didn't make it",
    "duplicate": "Charged twice",
    "wrong_amount": "Wrong amount",
    "not_received": "Not received",
    "not_as_described": "Not as described",
    "refund_not_processed": "Refund not received",
    "cancelled_subscription": "Cancelled subscription",
}

REASON_PHRASES = {
    "unauthorised": "you didn't make it",
    "duplicate": "you were charged twice",
    "wrong_amount": "the amount is wrong",
    "not_received": "it never arrived",
    "not_as_described": "it wasn't as described",
    "refund_not_processed": "your refund hasn't arrived",
    "cancelled_subscription": "you'd cancelled the subscription",
}


def validate_dispute_reason(value: str | None) -> DisputeReason | None:
    if not value:
        return None
    v = value.strip().lower()
    for key, synonyms in REASONS.items():
        if v == key or v == REASON_LABELS[key].lower() or any(v == s.lower() for s in synonyms):
            return DisputeReason(key)
    for key, synonyms in REASONS.items():
        if any(s.lower() in v for s in synonyms):
            return DisputeReason(key)
    return None


def infer_reason(text: str) -> DisputeReason | None:
    t = text.lower()
    if re.search(r"(don'?t|do not|didn'?t|never) (recogni[sz]e|make|made|authori[sz]e|bought|buy|paid)|(was|is)n'?t (me|mine)|"
                 r"not (me|mine)|someone(?:'s been| has been)? (used|using|stole)|fraud|scam|bogus|dodgy|never heard of", t):
        return DisputeReason.unauthorised
    if re.search(r"charged twice|double charg|duplicate|twice", t):
        return DisputeReason.duplicate
    if re.search(r"never (arrived|came|got|received|turned up)|(didn'?t|did not|hasn'?t|has not|haven'?t|have not) "
                 r"(arrive|come|turn up|receive|got|get)|not (been )?(delivered|received)|never delivered", t):
        return DisputeReason.not_received
    return None
