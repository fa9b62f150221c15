"""Dispute cases: eligibility, deadlines and idempotent creation, shared by chat, email and agents.

The case id is derived from (customer, transaction), and the repository refuses a second case on
the same transaction, so the same payment raised in chat and by email — or one turn retried by
Lex — is always one case.
"""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from chalicelib.core.models import CaseEvent, CaseState, DisputeCase, DisputeReason, Transaction, TxnStatus
from chalicelib.storage.base import AlreadyExists

# Regulation E (debit cards, 12 CFR 1005.11): provisional credit within 10 business days if the
# investigation is not finished; resolution within 45 calendar days (90 for foreign-initiated or
# point-of-sale debit transactions). Card networks give the merchant about 30 days to respond.
PROVISIONAL_CREDIT_BUSINESS_DAYS = 10
DECISION_DAYS = 45
DECISION_DAYS_EXTENDED = 90
MERCHANT_RESPONSE_DAYS = 30
# Visa 13.1 (merchandise / services not received): with no delivery date agreed, the issuer waits 15
# days from the transaction, and the cardholder is expected to have tried the merchant first.
NOT_RECEIVED_WAIT_DAYS = 15


def merchant_first_until(reason: DisputeReason, contacted: bool | None, txn: Transaction, today: date) -> date | None:
    """The day before which a goods-not-received dispute should go to the merchant first: when the
    customer has not contacted them and the delivery may still be on its way. None: file now."""
    if reason != DisputeReason.not_received or contacted is not False:
        return None
    until = txn.occurred_at.date() + timedelta(days=NOT_RECEIVED_WAIT_DAYS)
    return until if today < until else None


def case_id_for(customer_id: str, txn_id: str) -> str:
    digest = hashlib.sha256(f"case|{customer_id}|{txn_id}".encode()).digest()
    code = base64.b32encode(digest).decode()
    code = "".join(ch for ch in code if ch not in "01OI=")
    return f"DSP-{code[:6]}"


def add_business_days(start: date, days: int) -> date:
    d = start
    while days > 0:
        d += timedelta(days=1)
        if d.weekday() < 5:
            days -= 1
    return d


@dataclass(frozen=True)
class Timeline:
    provisional_credit_due: date
    merchant_response_due: date
    decision_due: date


def timeline(opened: date, txn: Transaction) -> Timeline:
    extended = txn.country != "US" or txn.channel == "card_present"
    return Timeline(
        provisional_credit_due=add_business_days(opened, PROVISIONAL_CREDIT_BUSINESS_DAYS),
        merchant_response_due=opened + timedelta(days=MERCHANT_RESPONSE_DAYS),
        decision_due=opened + timedelta(days=DECISION_DAYS_EXTENDED if extended else DECISION_DAYS),
    )


@dataclass(frozen=True)
class Eligibility:
    ok: bool
    reason: str  # ok | pending | declined | reversed | out_of_window | already_disputed | credit
    existing_case: DisputeCase | None = None


def eligibility(store, txn: Transaction, now: datetime, window_days: int) -> Eligibility:
    existing = store.cases.find_by_transaction(txn.customer_id, txn.txn_id)
    if existing:
        return Eligibility(False, "already_disputed", existing)
    if txn.status == TxnStatus.pending:
        return Eligibility(False, "pending")
    if txn.status == TxnStatus.declined:
        return Eligibility(False, "declined")
    if txn.status == TxnStatus.reversed:
        return Eligibility(False, "reversed")
    if txn.amount_minor <= 0:
        return Eligibility(False, "credit")
    posted = txn.posted_at or txn.occurred_at
    if (now - posted).days > window_days:
        return Eligibility(False, "out_of_window")
    return Eligibility(True, "ok")


def open_case(
    store,
    txn: Transaction,
    reason: DisputeReason,
    amount_minor: int,
    now: datetime,
    merchant_contacted: bool | None,
    description: str,
    channel: str,
) -> tuple[DisputeCase, bool]:
    """Create the case (or return the one that already exists). Returns (case, created)."""
    tl = timeline(now.date(), txn)
    case = DisputeCase(
        case_id=case_id_for(txn.customer_id, txn.txn_id),
        customer_id=txn.customer_id,
        txn_id=txn.txn_id,
        reason=reason,
        disputed_amount_minor=amount_minor,
        currency=txn.currency,
        merchant_contacted=merchant_contacted,
        description=description,
        state=CaseState.opened,
        channel=channel,
        created_at=now,
        updated_at=now,
        provisional_credit_due=tl.provisional_credit_due,
        decision_due=tl.decision_due,
        history=[CaseEvent(at=now, state=CaseState.opened, note=f"filed via {channel}")],
    )
    try:
        return store.cases.create(case), True
    except AlreadyExists:
        existing = store.cases.find_by_transaction(txn.customer_id, txn.txn_id)
        if existing is None:  # created under another id by an older version: surface the conflict
            raise
        return existing, False


NEXT_STEP = {
    CaseState.opened: "We're reviewing the details and will contact the merchant.",
    CaseState.awaiting_customer: "We need something from you: please check your messages and reply.",
    CaseState.provisional_credit: "We've given you a temporary credit while the merchant responds.",
    CaseState.under_review: "The merchant has been contacted and we're reviewing their response.",
    CaseState.resolved_won: "Resolved in your favour: the credit is permanent.",
    CaseState.resolved_lost: "Closed: the evidence supported the charge. You can ask an agent about next steps.",
    CaseState.withdrawn: "Withdrawn at your request.",
}
