"""The ticket store protocol (SQLite and DynamoDB twins; tests/tickets/test_store_contract.py runs
one suite on both)."""
from __future__ import annotations

from typing import Protocol

from chalicelib.storage.base import AlreadyExists, NotFound, RepositoryError
from chalicelib.tickets.model import Queue, Ticket, TicketStatus

__all__ = ["AlreadyExists", "NotFound", "StaleTicket", "TicketRepo", "sort_for_agents"]


class StaleTicket(RepositoryError):
    """The ticket changed since it was read (another agent claimed it first): re-read and retry."""

    code = "ticket.stale"


class TicketRepo(Protocol):
    def create_schema(self) -> None: ...

    def create(self, ticket: Ticket) -> Ticket:
        """Store a new ticket; AlreadyExists if the id is taken (a replayed event)."""
        ...

    def get(self, ticket_id: str) -> Ticket | None: ...

    def save(self, ticket: Ticket) -> Ticket:
        """Store a changed ticket read at ``ticket.version``; returns it at version + 1. StaleTicket
        when someone saved first, NotFound when it does not exist."""
        ...

    def find_open(self, customer_ref: str, reason: str) -> Ticket | None:
        """The oldest ticket of this customer for this reason that is not resolved."""
        ...

    def list(self, queue: Queue | None = None, status: TicketStatus | None = None) -> list[Ticket]:
        """Priority first, then SLA due (what an agent should pick next comes first)."""
        ...


def sort_for_agents(tickets: list[Ticket]) -> list[Ticket]:
    return sorted(tickets, key=lambda t: (t.priority.value, t.sla_due, t.ticket_id))
