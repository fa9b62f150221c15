"""The regulatory clock as the customer is told it: the case's next deadline, in their words.

Why apart from deadlines.py: those descriptions are the bank's obligations, written for agents
("provisionally credit the account ..."); the customer reads what they will get and by when. The
chat (DisputeStatus) and the email acknowledgment say the same thing because both ask here.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from chalicelib.cases.deadlines import deadlines_for_case
from chalicelib.core.models import DisputeCase

CUSTOMER_PHRASES = {
    "provisional_credit": "a temporary credit for the disputed amount, unless the dispute is decided before then",
    "acknowledgment": "our written acknowledgment of your dispute",
    "resolution": "a decision on your dispute",
    "network_filing": "the last day to raise the dispute with the card network, which we do for you",
}


@dataclass(frozen=True)
class CustomerDeadline:
    key: str
    due: date
    phrase: str
    rule: str


def next_customer_deadline(store: Any, case: DisputeCase, today: date) -> CustomerDeadline | None:
    """The earliest deadline of an open case not yet passed, by the rule of the card it was paid
    with (Reg E for debit, Reg Z for credit). None for a closed case or a card or payment unknown."""
    if not case.is_open:
        return None
    txn = store.transactions.get(case.customer_id, case.txn_id)
    if txn is None:
        return None
    card = next((c for c in store.cards.list_for_customer(case.customer_id) if c.last4 == txn.card_last4), None)
    if card is None:
        return None
    found = deadlines_for_case(case, txn, card).next_due(today)
    if found is None:
        return None
    return CustomerDeadline(found.key, found.due, CUSTOMER_PHRASES.get(found.key, found.description), found.rule)
