"""The escalation ticket and its guarded status: open -> claimed -> resolved (a claim can be
released back to open). Ids are derived from what raised the ticket, so a replayed event (SQS,
SNS, a Lex retry) yields the same id and the store's conditional create makes it one ticket."""
from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from enum import Enum

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.core.models import utcnow


class Priority(str, Enum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class Queue(str, Enum):
    fraud = "fraud"
    disputes = "disputes"
    complaints = "complaints"
    vulnerable_customers = "vulnerable_customers"
    general = "general"


class TicketStatus(str, Enum):
    open = "open"
    claimed = "claimed"
    resolved = "resolved"


class TicketSource(str, Enum):
    talk_to_agent = "talk_to_agent"
    policy = "policy"
    triage_urgency = "triage_urgency"
    failed_step_up = "failed_step_up"
    email = "email"


TICKET_TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    TicketStatus.open: frozenset({TicketStatus.claimed}),
    TicketStatus.claimed: frozenset({TicketStatus.open, TicketStatus.resolved}),
    TicketStatus.resolved: frozenset(),
}


class TicketError(Exception):
    code = "ticket.error"

    def __init__(self, ticket_id: str, detail: str):
        self.ticket_id = ticket_id
        super().__init__(f"[{self.code}] ticket {ticket_id}: {detail}")


class IllegalTicketTransition(TicketError):
    code = "ticket.transition.illegal"


class NotAssignee(TicketError):
    code = "ticket.transition.not_assignee"


class TicketNote(BaseModel):
    model_config = ConfigDict(extra="forbid")

    author: str = Field(min_length=1)  # agent id, "assistant", "system"
    at: datetime = Field(default_factory=utcnow)
    text: str  # redacted


class Ticket(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ticket_id: str  # "TKT-XXXXXXXX", see ticket_id_for
    priority: Priority
    queue: Queue
    status: TicketStatus = TicketStatus.open
    created_by: TicketSource
    source_ref: str  # what raised it: session+turn, email record id, decision id ...
    reason: str  # machine-readable: customer_request | amount_over_limit | legal_threat | lockout ...
    customer_ref: str | None = None  # None when the customer was never verified
    case_id: str | None = None
    summary: str = ""  # redacted, short
    assignee: str | None = None
    sla_due: datetime
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    claimed_at: datetime | None = None
    resolved_at: datetime | None = None
    outcome: str | None = None
    announced_at: datetime | None = None  # when its queue's team was told (once; see escalation_worker.py)
    notes: list[TicketNote] = Field(default_factory=list)
    context: dict = Field(default_factory=dict)  # the context bundle (context_bundle.py)
    version: int = 0  # optimistic concurrency: the stores refuse a save from a stale copy

    @property
    def is_open(self) -> bool:
        return self.status is not TicketStatus.resolved


def escalation_key(created_by: TicketSource | str, source_ref: str, reason: str, customer_ref: str | None = None) -> str:
    """What makes an escalation the same escalation: its source, reference, reason and customer."""
    return f"ticket|{TicketSource(created_by).value}|{source_ref}|{reason}|{customer_ref or ''}"


def ticket_id_for_key(key: str) -> str:
    """The ticket id of an escalation key (the escalation message carries both; a worker checks them)."""
    code = base64.b32encode(hashlib.sha256(key.encode()).digest()).decode()
    return "TKT-" + "".join(ch for ch in code if ch not in "01OI=")[:8]


def ticket_id_for(created_by: TicketSource | str, source_ref: str, reason: str, customer_ref: str | None = None) -> str:
    """Same inputs, same id: a replayed escalation is the same ticket."""
    return ticket_id_for_key(escalation_key(created_by, source_ref, reason, customer_ref))


def _move(ticket: Ticket, to: TicketStatus, now: datetime) -> Ticket:
    if to not in TICKET_TRANSITIONS[ticket.status]:
        raise IllegalTicketTransition(ticket.ticket_id, f"{ticket.status.value} -> {to.value} is not allowed")
    out = ticket.model_copy(deep=True)
    out.status, out.updated_at = to, now
    return out


def add_note(ticket: Ticket, author: str, text: str, now: datetime | None = None) -> Ticket:
    out = ticket.model_copy(deep=True)
    now = now or utcnow()
    out.notes.append(TicketNote(author=author, at=now, text=text))
    out.updated_at = now
    return out


def claim(ticket: Ticket, agent: str, now: datetime | None = None) -> Ticket:
    now = now or utcnow()
    out = _move(ticket, TicketStatus.claimed, now)
    out.assignee, out.claimed_at = agent, now
    return add_note(out, agent, "claimed", now)


def release(ticket: Ticket, agent: str, now: datetime | None = None, supervisor: bool = False) -> Ticket:
    if not supervisor and ticket.assignee != agent:
        raise NotAssignee(ticket.ticket_id, f"claimed by another agent, not {agent}")
    now = now or utcnow()
    out = _move(ticket, TicketStatus.open, now)
    out.assignee = None
    return add_note(out, agent, "released", now)


def resolve(ticket: Ticket, agent: str, outcome: str, now: datetime | None = None, supervisor: bool = False) -> Ticket:
    """Only the assignee (or a supervisor) resolves; ``outcome`` is machine-readable."""
    if ticket.status is TicketStatus.claimed and not supervisor and ticket.assignee != agent:
        raise NotAssignee(ticket.ticket_id, f"claimed by another agent, not {agent}")
    if not outcome or not outcome.strip():
        raise IllegalTicketTransition(ticket.ticket_id, "resolving needs an outcome")
    now = now or utcnow()
    out = _move(ticket, TicketStatus.resolved, now)
    out.resolved_at, out.outcome = now, outcome.strip()
    return add_note(out, agent, f"resolved: {outcome.strip()}", now)
