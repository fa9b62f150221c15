"""The ticket desk: turns a recorded handoff into a routed ticket with its context bundle, tells the
queue's team once, and says what the customer can expect.

Why here and not in the intent: chat, email and the policy all escalate, and each must produce the
same ticket, merged the same way, announced exactly once (only the delivery that wins the
conditional create publishes, so a replayed or concurrent escalation never notifies twice).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Mapping

from chalicelib.cases.deadlines import deadlines_for_case
from chalicelib.cases.evidence import case_evidence_status
from chalicelib.core.models import Handoff
from chalicelib.tickets.context_bundle import build_context_bundle
from chalicelib.tickets.model import Queue, Ticket, TicketSource, TicketStatus
from chalicelib.tickets.notify import SUMMARY_LIMIT, TicketPublisher
from chalicelib.tickets.routing import route_for
from chalicelib.tickets.service import new_ticket, open_ticket
from chalicelib.tickets.sla import ExpectedWait, expected_wait, tickets_ahead
from chalicelib.tickets.store import TicketRepo

STEP_UP_REASONS = {"lockout", "otp_undeliverable"}
NEXT_ACTION = {
    Queue.fraud: ("secure_account", "Confirm the payments with the customer and block the card if they are not theirs."),
    Queue.disputes: ("review_dispute", "Check the transaction and the evidence checklist, then decide the dispute."),
    Queue.complaints: ("handle_complaint", "Acknowledge the complaint formally and check the regulatory deadlines."),
    Queue.vulnerable_customers: ("contact_with_care", "Contact the customer by their preferred channel and offer extra support."),
    Queue.general: ("review", "Read the conversation and contact the customer."),
}
# Session attributes Amazon Connect routes on (chatbot/hook.py lets exactly these through).
CONNECT_KEYS = ("ticketRef", "ticketQueue", "ticketPriority", "ticketSummary")


@dataclass(frozen=True)
class Escalated:
    ticket: Ticket
    outcome: str  # created | replayed | merged
    wait: ExpectedWait

    def connect_attributes(self) -> dict[str, str]:
        """What a contact flow needs to route the chat, redacted and short (Lex caps the session)."""
        t = self.ticket
        return dict(zip(CONNECT_KEYS, (t.ticket_id, t.queue.value, t.priority.value, t.summary[:SUMMARY_LIMIT])))


def source_for(reason: str) -> TicketSource:
    if reason == "customer_request":
        return TicketSource.talk_to_agent
    return TicketSource.failed_step_up if reason in STEP_UP_REASONS else TicketSource.policy


class TicketDesk:
    def __init__(self, repo: TicketRepo, store: Any, publisher: TicketPublisher, clock: Callable[[], datetime],
                 redact: Callable[[str], str] | None = None):
        self.repo, self.store, self.publisher, self.clock, self.redact = repo, store, publisher, clock, redact

    def _case_part(self, customer_id: str, txn, cards) -> dict:
        case = self.store.cases.find_by_transaction(customer_id, txn.txn_id)
        if case is None:
            return {}
        card = next((c for c in cards if c.last4 == txn.card_last4), None)
        deadlines = deadlines_for_case(case, txn, card) if card is not None else None
        return {"case": case, "deadlines": deadlines, "evidence": case_evidence_status(case)}

    def bundle_parts(self, customer_id: str | None, txn_id: str | None) -> dict:
        """Customer, cards, the transaction in question and its case, read through the customer's own
        keys (an escalation never widens what the assistant could see)."""
        if not customer_id:
            return {}
        customer = self.store.customers.get(customer_id)
        cards = self.store.cards.list_for_customer(customer_id)
        parts: dict = {"customer": customer, "cards": cards}
        txn = self.store.transactions.get(customer_id, txn_id) if txn_id else None
        if txn is not None:
            parts["transactions"] = [txn]
            parts.update(self._case_part(customer_id, txn, cards))
        return parts

    def escalate(self, handoff: Handoff, *, identity_level: str = "anonymous", txn_id: str | None = None,
                 decisions: list[Mapping[str, Any]] = (), triage: Mapping[str, Any] | None = None,
                 conversation_kind: str = "chat", messages: list[Mapping[str, Any]] | None = None) -> Escalated:
        """``messages``: the redacted conversation (the chat transcript); without it, the handoff's summary."""
        parts = self.bundle_parts(handoff.customer_id, txn_id)
        customer = parts.get("customer")
        route = route_for(handoff.reason, vulnerable=bool(customer and customer.vulnerable),
                          has_transaction=bool(parts.get("transactions")))
        case = parts.get("case")
        draft = new_ticket(
            created_by=TicketSource.email if handoff.channel == "email" else source_for(handoff.reason), source_ref=handoff.handoff_id, reason=handoff.reason,
            queue=route.queue, priority=route.priority, customer_ref=handoff.customer_id,
            case_id=case.case_id if case else None, summary=handoff.summary[:SUMMARY_LIMIT], now=handoff.created_at,
        )
        bundle = build_context_bundle(
            draft, identity_level=identity_level, triage=triage, conversation_kind=conversation_kind,
            messages=messages if messages is not None else
            [{"role": "customer", "text": handoff.summary, "at": handoff.created_at}] if handoff.summary else [],
            decisions=decisions, next_action=NEXT_ACTION[route.queue], redact=self.redact, **parts,
        )
        opened = open_ticket(self.repo, draft.model_copy(update={"context": bundle}), now=handoff.created_at)
        if opened.created:
            self.publisher.publish(opened.ticket)
        return Escalated(opened.ticket, opened.outcome, self.wait_for(opened.ticket))

    def wait_for(self, ticket: Ticket) -> ExpectedWait:
        others = [t for t in self.repo.list(ticket.queue, TicketStatus.open) if t.ticket_id != ticket.ticket_id]
        return expected_wait(ticket.queue, ticket.priority, tickets_ahead(others, ticket.queue, ticket.priority, ticket.created_at))


def build_ticket_desk(settings, store, clock, redact=None) -> TicketDesk:
    """The desk for the configured backend: SQLite file beside the main store, or the DynamoDB
    table and per-queue SNS topics in AWS."""
    from chalicelib.tickets.notify import LocalTopicOutbox, SnsTopicPublisher

    if settings.backend == "sqlite":
        from chalicelib.tickets.store_sqlite import SqliteTicketStore

        repo = SqliteTicketStore(settings.sqlite_path.with_name(settings.sqlite_path.stem + "-tickets.db"))
        repo.create_schema()
        publisher = LocalTopicOutbox(settings.outbox_dir, redact)
    else:
        from chalicelib.core.aws import client as aws_client
        from chalicelib.tickets.store_dynamodb import DynamoTicketStore

        repo = DynamoTicketStore(aws_client("dynamodb", settings), settings.tickets_table)
        publisher = SnsTopicPublisher(aws_client("sns", settings), settings.ticket_topic_arn_prefix, redact)
    return TicketDesk(repo, store, publisher, clock, redact)
