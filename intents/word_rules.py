"""Intents read from the customer's own words when Lex's samples and the classifier miss them.

Why rules here: a lost card and a withdrawn dispute are both acts on the account that a customer
names in many ways ("someone pinched my wallet", "take back my claim"); each rule names the object
(the card, the dispute) so a lone "cancel" or "stop" answering another question never opens them.
"""
from __future__ import annotations

import re

from intents.lost_card import reads_as_found, reads_as_lost

_WITHDRAW = re.compile(
    r"\b(?:cancel|withdraw|close|drop|stop|take back|call off|end|pull)\w*\s+(?:my\s+|the\s+|this\s+|that\s+)?"
    r"(?:dispute|claim|case|chargeback)\b|\bdispute\b.*\b(?:not needed|no longer needed|sorted|resolved now)\b")


def reads_as_withdrawal(text: str) -> bool:
    return bool(_WITHDRAW.search((text or "").lower()))


def intent_from_words(text: str, label: str | None = None) -> str | None:
    """LostCard or WithdrawDispute when the words (or the classifier's label) say so; else None.
    A card found again is LostCard too: it answers what the customer can do with it, freezing nothing."""
    if reads_as_lost(text, label) or reads_as_found(text):
        return "LostCard"
    if reads_as_withdrawal(text):
        return "WithdrawDispute"
    return None
