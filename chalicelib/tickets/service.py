"""Opening a ticket: idempotent for a replayed event, merged for a duplicate escalation.

- The same event again (same source, reference, reason, customer) derives the same id: the
  existing ticket comes back untouched.
- Another escalation of the same customer for the same reason while a ticket is still open is
  merged: the open ticket comes back with a note saying where the new request came from.
- Otherwise a new ticket is created; a concurrent create of the same id loses the conditional
  write and returns the winner, and a concurrent create of ANOTHER event of the same customer and
  reason loses the store's open lock (``open#<customer>#<reason>``) and is merged into the winner.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.core.models import utcnow
from chalicelib.core.pci import scrub_pans
from chalicelib.tickets.model import Priority, Queue, Ticket, TicketSource, add_note, ticket_id_for
from chalicelib.tickets.sla import sla_due
from chalicelib.tickets.store import AlreadyExists, OpenTicketExists, StaleTicket, TicketRepo

_MERGE_ATTEMPTS = 8


@dataclass(frozen=True)
class Opened:
    ticket: Ticket
    outcome: str  # created | replayed | merged

    @property
    def created(self) -> bool:
        return self.outcome == "created"


def new_ticket(
    *,
    created_by: TicketSource | str,
    source_ref: str,
    reason: str,
    queue: Queue | str,
    priority: Priority | str,
    customer_ref: str | None = None,
    case_id: str | None = None,
    summary: str = "",
    context: dict | None = None,
    now: datetime | None = None,
) -> Ticket:
    """A ticket as it would be created (not stored): id derived, SLA from the table, summary guarded."""
    now = now or utcnow()
    return Ticket(
        ticket_id=ticket_id_for(created_by, source_ref, reason, customer_ref),
        priority=Priority(priority),
        queue=Queue(queue),
        created_by=TicketSource(created_by),
        source_ref=source_ref,
        reason=reason,
        customer_ref=customer_ref,
        case_id=case_id,
        summary=scrub_pans(summary)[0],
        sla_due=sla_due(queue, priority, now),
        created_at=now,
        updated_at=now,
        context=context or {},
    )


def _merge_note(draft: Ticket) -> str:
    text = f"merged duplicate request {draft.ticket_id} ({draft.created_by.value}, {draft.source_ref})"
    return text + (f": {draft.summary}" if draft.summary else "")


def _merge_into(repo: TicketRepo, open_one: Ticket, draft: Ticket, now: datetime) -> Opened | None:
    """``draft`` merged into the customer's open ticket; None when that ticket changed meanwhile."""
    if open_one.ticket_id == draft.ticket_id:  # created by a concurrent delivery of this event
        return Opened(open_one, "replayed")
    if any(draft.ticket_id in n.text for n in open_one.notes):  # merged already (replay)
        return Opened(open_one, "merged")
    try:
        return Opened(repo.save(add_note(open_one, "system", _merge_note(draft), now)), "merged")
    except StaleTicket:
        return None  # someone changed it meanwhile: read again


def open_ticket(repo: TicketRepo, draft: Ticket, now: datetime | None = None) -> Opened:
    """Raises StaleTicket when the customer's open ticket kept changing under every attempt (a
    retry, e.g. the queue's redelivery, will merge)."""
    now = now or draft.created_at
    existing = repo.get(draft.ticket_id)
    if existing is not None:
        return Opened(existing, "replayed")
    for _ in range(_MERGE_ATTEMPTS):
        open_one = repo.find_open(draft.customer_ref, draft.reason) if draft.customer_ref else None
        if open_one is not None:
            merged = _merge_into(repo, open_one, draft, now)
            if merged is not None:
                return merged
            continue
        try:
            return Opened(repo.create(draft), "created")
        except AlreadyExists:
            return Opened(repo.get(draft.ticket_id) or draft, "replayed")
        except OpenTicketExists:
            continue  # another event of this customer and reason took the lock at the same instant: merge
    raise StaleTicket(draft.ticket_id)
