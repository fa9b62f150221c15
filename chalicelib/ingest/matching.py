"""Which customer wrote, and which of their cases or payments the mail is about.

A wrong link is worse than none (an agent would act on someone else's payment), so ambiguity
links nothing: the sender must match exactly one customer, and free-text mentions must point at
exactly one payment. Payments are found by the one payment search that chat uses too
(chalicelib.payments.search), so a complaint links the same payment in either channel.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from chalicelib.core.models import Customer
from chalicelib.payments.search import SearchConfig, find_payment_for_mentions, window_payments

__all__ = ["match_customer", "match_payment"]


def match_customer(store: Any, address: str | None) -> Customer | None:
    """The one customer with this email address, else None (unknown or shared address)."""
    if not address or "@" not in address:
        return None
    found = store.customers.find_by_email(address)
    return found[0] if len(found) == 1 else None


def _spans(entities: dict[str, Any]) -> list[tuple[date, date]]:
    spans = []
    for d in entities.get("dates") or []:
        try:
            spans.append((datetime.fromisoformat(d["date_from"]).date(), datetime.fromisoformat(d["date_to"]).date()))
        except (KeyError, TypeError, ValueError):
            continue
    return spans


def match_payment(store: Any, customer: Customer, entities: dict[str, Any], now: datetime,
                  config: SearchConfig, category: str | None = None) -> tuple[str | None, str | None]:
    """(txn_id, case_id): a case id of this customer's wins (and names its transaction); else a
    transaction id the customer owns; else the one payment the mentioned amounts, merchants and
    dates point at (for a duplicate-charge complaint, the later of two identical charges)."""
    cid = customer.customer_id
    for case_id in entities.get("case_ids") or []:
        case = store.cases.get(cid, str(case_id).upper())
        if case is not None:
            return case.txn_id, case.case_id
    for txn_id in entities.get("transaction_ids") or entities.get("txn_ids") or []:
        txn = store.transactions.get(cid, str(txn_id))
        if txn is not None:
            case = store.cases.find_by_transaction(cid, txn.txn_id)
            return txn.txn_id, case.case_id if case else None
    amounts = [(int(a["minor"]), a.get("currency")) for a in entities.get("amounts") or []
               if isinstance(a, dict) and a.get("minor")]
    if not amounts:
        return None, None
    merchants = [str(m.get("name") if isinstance(m, dict) else m) for m in entities.get("merchants") or []]
    hit = find_payment_for_mentions(window_payments(store.transactions, cid, now, config), amounts, merchants,
                                    _spans(entities), config, duplicate_claim=category == "duplicate_charge")
    if hit is None:
        return None, None
    case = store.cases.find_by_transaction(cid, hit.txn_id)
    return hit.txn_id, case.case_id if case else None
