"""The escalation worker: one escalation request (chalicelib/tickets/escalation.py) in, one ticket
opened or merged, and its queue's team told exactly once.

Delivery is at least once (SQS redelivers after a failure or a timeout, two containers can receive
the same message) and failures are of two kinds:

- a message no retry can fix (not JSON, an unknown schema version, fields out of shape) raises
  EscalationMessageError with a stable code: the record is reported failed every time, so after the
  queue's maxReceiveCount it lands in the dead-letter queue (alarmed) instead of vanishing;
- anything else (the table throttled, SNS down, another worker announcing the same ticket) is
  reported failed too and retried by redelivery; every step is idempotent, so a retry finishes the
  work without repeating what was done.

Exactly one announcement: the ticket records ``announced_at``; the announcement itself runs under the
idempotency guard (``ticket_announce#<ticket>``), so of eight concurrent deliveries one publishes,
and a delivery after a failed publish publishes once.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from chalicelib.core.models import utcnow
from chalicelib.storage.idempotency import DuplicateInProgress
from chalicelib.tickets.bundle_parts import NEXT_ACTION, bundle_parts
from chalicelib.tickets.context_bundle import build_context_bundle
from chalicelib.tickets.escalation import EscalationMessageError, EscalationRequest, parse_escalation
from chalicelib.tickets.model import Ticket
from chalicelib.tickets.notify import TicketPublisher
from chalicelib.tickets.service import Opened, new_ticket, open_ticket
from chalicelib.tickets.store import StaleTicket, TicketRepo

log = logging.getLogger(__name__)

_MARK_ATTEMPTS = 8


class AnnouncementBusy(Exception):
    """Another delivery is announcing this ticket right now: retry to confirm it was announced."""

    code = "escalation.announce.in_progress"


@dataclass(frozen=True)
class Worked:
    """One record's result: the request and what opening it led to."""

    request: EscalationRequest
    opened: Opened


class EscalationWorker:
    """``idempotency`` is the container's guard (chatbot/bootstrap.py). Without one (unit tests of the
    desk) only the delivery that creates a ticket announces it, so a failed publish is not retried."""

    def __init__(self, repo: TicketRepo, store: Any, publisher: TicketPublisher, *,
                 redact: Callable[[str], str] | None = None, idempotency: Any = None,
                 clock: Callable[[], datetime] = utcnow):
        self.repo, self.store, self.publisher = repo, store, publisher
        self.redact, self.idempotency, self.clock = redact, idempotency, clock

    # ---- one request --------------------------------------------------------------------------

    def draft(self, request: EscalationRequest) -> Ticket:
        """The ticket the request stands for, with its context bundle built from the store now."""
        ticket = new_ticket(
            created_by=request.source, source_ref=request.source_ref, reason=request.reason, queue=request.queue,
            priority=request.priority, customer_ref=request.customer_ref, case_id=request.case_id,
            summary=request.summary, now=request.created_at,
        )
        inputs = request.inputs
        bundle = build_context_bundle(
            ticket, identity_level=inputs.identity_level, triage=inputs.triage,
            conversation_kind=inputs.conversation_kind, messages=inputs.messages, decisions=inputs.decisions,
            next_action=NEXT_ACTION[request.queue], redact=self.redact,
            **bundle_parts(self.store, request.customer_ref, inputs.txn_id),
        )
        return ticket.model_copy(update={"context": bundle})

    def process(self, request: EscalationRequest) -> Opened:
        opened = open_ticket(self.repo, self.draft(request), now=request.created_at)
        own = opened.ticket.ticket_id == request.ticket_id  # a merge announces nothing new
        if own and opened.ticket.announced_at is None and (opened.created or self.idempotency is not None):
            ticket = self.announce(opened.ticket)
            opened = Opened(ticket, opened.outcome)
        return opened

    def announce(self, ticket: Ticket) -> Ticket:
        if self.idempotency is None:
            self.publisher.publish(ticket)
        else:
            try:
                self.idempotency.run(f"ticket_announce#{ticket.ticket_id}", self.publisher.publish, ticket)
            except DuplicateInProgress as exc:
                raise AnnouncementBusy(f"[{AnnouncementBusy.code}] {ticket.ticket_id}") from exc
        return self._mark_announced(ticket.ticket_id)

    def _mark_announced(self, ticket_id: str) -> Ticket:
        for _ in range(_MARK_ATTEMPTS):
            current = self.repo.get(ticket_id)
            if current is None or current.announced_at is not None:
                return current
            try:
                return self.repo.save(current.model_copy(update={"announced_at": self.clock()}))
            except StaleTicket:
                continue  # an agent or a merge saved it meanwhile
        raise StaleTicket(ticket_id)

    # ---- SQS records --------------------------------------------------------------------------

    def handle_record(self, record: Any) -> Worked:
        """One SQS record; raises EscalationMessageError (permanent) or whatever failed (retryable)."""
        body = record.get("body") if isinstance(record, dict) else None
        request = parse_escalation(body)
        return Worked(request, self.process(request))

    def handle_batch(self, records: list[Any], partial_batch_response: bool = False) -> dict | None:
        """Every record is attempted. Failed ones are returned as ``{"batchItemFailures": [...]}``
        (the mapping needs FunctionResponseTypes [ReportBatchItemFailures]); without
        ``partial_batch_response`` the first failure is raised once the whole batch was tried, so
        the batch is redelivered (what succeeded is a no-op then). No failure is ever acknowledged."""
        failures: list[dict[str, str]] = []
        first: Exception | None = None
        for record in records:
            sqs_id = str(record.get("messageId", "")) if isinstance(record, dict) else ""
            try:
                worked = self.handle_record(record)
                log.info("escalation_worker: %s %s %s", sqs_id, worked.opened.ticket.ticket_id, worked.opened.outcome)
            except EscalationMessageError as exc:
                # Never retried into success: the dead-letter queue keeps it after maxReceiveCount.
                log.error("escalation_worker: %s refused: %s", sqs_id, exc.code)
                failures.append({"itemIdentifier": sqs_id})
                first = first or exc
            except Exception as exc:  # noqa: BLE001 - every other failure is retried, never dropped
                log.warning("escalation_worker: %s will be retried (%s)", sqs_id, type(exc).__name__)
                failures.append({"itemIdentifier": sqs_id})
                first = first or exc
        if partial_batch_response:
            return {"batchItemFailures": failures}
        if first is not None:
            raise first
        return None


def error_code(exc: BaseException) -> str:
    """The stable code of a failure, for dead letters and logs: the message's, else the class name."""
    return getattr(exc, "code", None) or f"escalation.retry.{type(exc).__name__}"
