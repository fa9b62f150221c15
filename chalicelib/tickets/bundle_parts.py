"""What a ticket's context bundle is built from, read from the store through the customer's own keys
(an escalation never widens what the assistant could see): the customer, their cards, the payment in
question, its case with deadlines and evidence. The desk reads it to route an escalation (a
vulnerable customer, a payment) and the escalation worker to build the bundle it stores."""
from __future__ import annotations

from typing import Any

from chalicelib.cases.deadlines import deadlines_for_case
from chalicelib.cases.evidence import case_evidence_status
from chalicelib.tickets.model import Queue

NEXT_ACTION = {
    Queue.fraud: ("secure_account", "Confirm the payments with the customer and block the card if they are not theirs."),
    Queue.disputes: ("review_dispute", "Check the transaction and the evidence checklist, then decide the dispute."),
    Queue.complaints: ("handle_complaint", "Acknowledge the complaint formally and check the regulatory deadlines."),
    Queue.vulnerable_customers: ("contact_with_care", "Contact the customer by their preferred channel and offer extra support."),
    Queue.general: ("review", "Read the conversation and contact the customer."),
}


def _case_part(store: Any, customer_id: str, txn, cards) -> dict:
    case = store.cases.find_by_transaction(customer_id, txn.txn_id)
    if case is None:
        return {}
    card = next((c for c in cards if c.last4 == txn.card_last4), None)
    deadlines = deadlines_for_case(case, txn, card) if card is not None else None
    return {"case": case, "deadlines": deadlines, "evidence": case_evidence_status(case)}


def bundle_parts(store: Any, customer_id: str | None, txn_id: str | None) -> dict:
    """Keyword arguments for build_context_bundle: customer, cards, transactions, case, deadlines, evidence."""
    if not customer_id:
        return {}
    customer = store.customers.get(customer_id)
    cards = store.cards.list_for_customer(customer_id)
    parts: dict = {"customer": customer, "cards": cards}
    txn = store.transactions.get(customer_id, txn_id) if txn_id else None
    if txn is not None:
        parts["transactions"] = [txn]
        parts.update(_case_part(store, customer_id, txn, cards))
    return parts
