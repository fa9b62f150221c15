"""Blocking a card the customer says was used by someone else, and the payments still at risk.

Why the chat may do this alone: a block only protects (no money moves, nothing is released), the
customer asked for it after disowning a payment, and every minute of delay lets another payment
through. It goes through the card-management adapter (:class:`chalicelib.fraud.actions.CardManagement`;
locally the store's Card row, in the bank the card API the composition root provides as
``services.card_management``), is recorded in the decision log, and the reply says it is done only
when it is. Other payments on the card since the disowned one are offered for an unauthorised-
transaction dispute: the customer decides which, the dispute intent files them.
"""
from __future__ import annotations

import logging

from chalicelib.core.models import CardStatus, Transaction, TxnStatus
from chalicelib.governance.decision_log import derive_decision_id
from intents.dialog import Turn
from intents.replies import money, render

logger = logging.getLogger("dispute_assistant.card_block")
AT_RISK_STATUSES = (TxnStatus.posted, TxnStatus.pending)


def card_management(turn: Turn):
    adapter = getattr(turn.services, "cards", None)
    if adapter is None:
        from chalicelib.fraud.actions import LocalCardManagement

        adapter = LocalCardManagement(turn.services.store)
    return adapter


def block_card(turn: Turn, txn: Transaction, fraud_ref: str | None) -> bool:
    """Block the card of the disowned payment; False when the adapter could not (a person does it)."""
    cid = turn.identity.customer_id
    try:
        card_management(turn).set_status(cid, txn.card_id, CardStatus.blocked, reason="customer_reported_fraud")
    except Exception:  # the bank's API down or refusing: the fraud team blocks it instead
        logger.exception("card block failed", extra={"session_id": turn.session_id})
        return False
    gov = turn.services.governance
    if gov is not None:
        gov.log.record(action="card_block", outcome="blocked", actor="assistant", channel="chat", customer_id=cid,
                       subject={"card_id": txn.card_id, "txn_id": txn.txn_id, "handoff_id": fraud_ref},
                       decision_id=derive_decision_id("card_block", cid, txn.card_id),
                       reasons=["fraud_reported_by_customer"],
                       explanation=f"Customer disowned the payment {txn.txn_id} and asked for the card to be blocked.")
    return True


def payments_at_risk(turn: Turn, txn: Transaction) -> list[Transaction]:
    """Other charges on the same card since the disowned payment, newest first."""
    found = turn.services.store.transactions.list_for_customer(turn.identity.customer_id, since=txn.occurred_at)
    return [t for t in found if t.card_id == txn.card_id and t.txn_id != txn.txn_id and t.amount_minor > 0
            and t.status in AT_RISK_STATUSES]


def dispute_offer(turn: Turn, txn: Transaction) -> list[str]:
    at_risk = payments_at_risk(turn, txn)
    if not at_risk:
        return []
    latest = at_risk[0]
    return [render("offer_fraud_dispute", n=len(at_risk), amount=money(latest.amount_minor, latest.currency),
                   merchant=latest.merchant_name)]
