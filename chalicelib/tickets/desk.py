"""The ticket desk: turns a recorded handoff into a routed escalation request, quotes the customer its
ticket reference and expected wait at once, and queues the request for the escalation worker, which
opens (or merges) the ticket and tells the queue's team once (escalation_worker.py).

Why here and not in the intent: chat, email and the policy all escalate, and each must produce the
same ticket, merged the same way, announced exactly once. Why a queue: opening and announcing can
fail (a throttled table, SNS down); through SQS and its dead-letter queue the work is retried and
never lost, and the customer's turn does not wait for it.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable, Mapping

from chalicelib.core.models import Handoff
from chalicelib.core.pci import scrub_pans
from chalicelib.tickets.bundle_parts import bundle_parts
from chalicelib.tickets.context_bundle import decision_summary
from chalicelib.tickets.escalation import BundleInputs, EscalationRequest, escalation_request
from chalicelib.tickets.escalation_queue import DirectEscalationQueue, EscalationQueue, EscalationQueueUnavailable
from chalicelib.tickets.escalation_worker import EscalationWorker
from chalicelib.tickets.model import Ticket, TicketSource, TicketStatus
from chalicelib.tickets.notify import SUMMARY_LIMIT, TicketPublisher
from chalicelib.tickets.routing import route_for
from chalicelib.tickets.service import new_ticket
from chalicelib.tickets.sla import ExpectedWait, expected_wait, tickets_ahead
from chalicelib.tickets.store import TicketRepo

logger = logging.getLogger(__name__)

STEP_UP_REASONS = {"lockout", "otp_undeliverable"}
# Session attributes Amazon Connect routes on (chatbot/hook.py lets exactly these through).
CONNECT_KEYS = ("ticketRef", "ticketQueue", "ticketPriority", "ticketSummary")


@dataclass(frozen=True)
class Escalated:
    ticket: Ticket
    outcome: str  # created | replayed | merged, or queued (the worker opens it; the reference holds)
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
    """The producer side: routes an escalation, quotes its reference and wait at once, and hands the
    request to the escalation queue (``queue`` builds it around the desk's worker; default: the
    worker in line, through the serialised message)."""

    def __init__(self, repo: TicketRepo, store: Any, publisher: TicketPublisher, clock: Callable[[], datetime],
                 redact: Callable[[str], str] | None = None, *, idempotency: Any = None,
                 queue: Callable[[EscalationWorker], EscalationQueue] | None = None):
        self.repo, self.store, self.clock, self.redact = repo, store, clock, redact
        self.worker = EscalationWorker(repo, store, publisher, redact=redact, idempotency=idempotency, clock=clock)
        self.queue = queue(self.worker) if queue is not None else DirectEscalationQueue(self.worker)

    @property
    def publisher(self) -> TicketPublisher:
        """The worker's: the team is told by the worker that opens the ticket."""
        return self.worker.publisher

    @publisher.setter
    def publisher(self, value: TicketPublisher) -> None:
        self.worker.publisher = value

    def request_for(self, handoff: Handoff, *, identity_level: str = "anonymous", txn_id: str | None = None,
                    decisions: Iterable[Mapping[str, Any]] = (), triage: Mapping[str, Any] | None = None,
                    conversation_kind: str = "chat", messages: Iterable[Mapping[str, Any]] | None = None
                    ) -> EscalationRequest:
        """The escalation request: routed here (a vulnerable customer, a payment), redacted inputs."""
        parts = bundle_parts(self.store, handoff.customer_id, txn_id)
        customer, case = parts.get("customer"), parts.get("case")
        route = route_for(handoff.reason, vulnerable=bool(customer and customer.vulnerable),
                          has_transaction=bool(parts.get("transactions")))
        if messages is None:
            messages = [{"role": "customer", "text": handoff.summary, "at": handoff.created_at}] if handoff.summary else []
        lines = [{"role": str(m.get("role", "")), "text": str(m.get("text", "")),
                  "at": m["at"].isoformat() if isinstance(m.get("at"), datetime) else m.get("at")} for m in messages]
        return escalation_request(
            source=TicketSource.email if handoff.channel == "email" else source_for(handoff.reason),
            source_ref=handoff.handoff_id, reason=handoff.reason, queue=route.queue, priority=route.priority,
            created_at=handoff.created_at, customer_ref=handoff.customer_id, case_id=case.case_id if case else None,
            summary=scrub_pans(handoff.summary[:SUMMARY_LIMIT])[0],
            inputs=BundleInputs(identity_level=identity_level, txn_id=txn_id, conversation_kind=conversation_kind,
                                messages=[{k: v for k, v in m.items() if v is not None} for m in lines],
                                decisions=[decision_summary(d) for d in decisions],
                                triage=dict(triage) if triage is not None else None),
        )

    def escalate(self, handoff: Handoff, **inputs: Any) -> Escalated:
        """Queue the escalation; the customer gets the ticket's reference and wait now. Keyword
        inputs as ``request_for``."""
        request = self.request_for(handoff, **inputs)
        try:
            worked = self.queue.send(request)
        except EscalationQueueUnavailable:
            # SQS refused or timed out: the customer must not lose the hand-over to a queue outage.
            # The same message is worked in line; its derived ticket id and the worker's idempotency
            # make a late delivery of a send that did get through a replay, never a second ticket.
            # If this fails too, the error reaches the caller, whose retry sends it again.
            logger.warning("escalation_queue_unavailable_worked_in_line", extra={"ticket_id": request.ticket_id})
            worked = DirectEscalationQueue(self.worker).send(request)
        if worked is not None:
            ticket, outcome = worked.opened.ticket, worked.opened.outcome
        else:
            ticket, outcome = self.quoted(request)
        return Escalated(ticket, outcome, self.wait_for(ticket))

    def quoted(self, request: EscalationRequest) -> tuple[Ticket, str]:
        """What to tell the customer before the worker ran: the ticket if it exists (a replay), the
        customer's open ticket for this reason (the worker will merge into it), else the ticket the
        request will open, under its derived reference."""
        existing = self.repo.get(request.ticket_id)
        if existing is not None:
            return existing, "replayed"
        open_one = self.repo.find_open(request.customer_ref, request.reason) if request.customer_ref else None
        if open_one is not None:
            return open_one, "merged"
        return new_ticket(created_by=request.source, source_ref=request.source_ref, reason=request.reason,
                          queue=request.queue, priority=request.priority, customer_ref=request.customer_ref,
                          case_id=request.case_id, summary=request.summary, now=request.created_at), "queued"

    def wait_for(self, ticket: Ticket) -> ExpectedWait:
        others = [t for t in self.repo.list(ticket.queue, TicketStatus.open) if t.ticket_id != ticket.ticket_id]
        return expected_wait(ticket.queue, ticket.priority, tickets_ahead(others, ticket.queue, ticket.priority, ticket.created_at))


def build_ticket_desk(settings, store, clock, redact=None, idempotency=None) -> TicketDesk:
    """The desk for the configured backend: SQLite file beside the main store and a local escalation
    queue drained in line, or the DynamoDB table, per-queue SNS topics and the SQS escalation queue
    in AWS (worked in line when no queue URL is configured)."""
    from chalicelib.tickets.escalation_queue import LocalEscalationQueue, SqsEscalationQueue
    from chalicelib.tickets.notify import LocalTopicOutbox, SnsTopicPublisher

    if settings.backend == "sqlite":
        from chalicelib.tickets.store_sqlite import SqliteTicketStore

        repo = SqliteTicketStore(settings.sqlite_path.with_name(settings.sqlite_path.stem + "-tickets.db"))
        repo.create_schema()
        publisher = LocalTopicOutbox(settings.outbox_dir, redact)
        path = settings.sqlite_path.with_name(settings.sqlite_path.stem + "-escalations.db")

        def queue(worker):
            return LocalEscalationQueue(path, worker, max_receives=settings.escalation_max_receives)
    else:
        from chalicelib.core.aws import client as aws_client
        from chalicelib.tickets.store_dynamodb import DynamoTicketStore

        repo = DynamoTicketStore(aws_client("dynamodb", settings), settings.tickets_table)
        publisher = SnsTopicPublisher(aws_client("sns", settings), settings.ticket_topic_arn_prefix, redact)
        url = settings.escalation_queue_url

        def queue(worker):
            return SqsEscalationQueue(aws_client("sqs", settings), url) if url else DirectEscalationQueue(worker)
    return TicketDesk(repo, store, publisher, clock, redact, idempotency=idempotency, queue=queue)
