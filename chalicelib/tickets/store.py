"""The ticket store protocol (SQLite and DynamoDB twins; tests/tickets/test_store_contract.py runs
one suite on both)."""
from __future__ import annotations

from typing import Protocol

from chalicelib.storage.base import AlreadyExists, NotFound, RepositoryError
from chalicelib.tickets.model import Queue, Ticket, TicketStatus

__all__ = ["AlreadyExists", "NotFound", "OpenTicketExists", "StaleTicket", "TicketRepo", "open_lock_key",
           "sort_for_agents"]


class StaleTicket(RepositoryError):
    """The ticket changed since it was read (another agent claimed it first): re-read and retry."""

    code = "ticket.stale"


class OpenTicketExists(RepositoryError):
    """Another ticket of this customer for this reason is still open and holds the lock: merge into
    ``holder`` instead of opening a second one (two different events at the same instant)."""

    code = "ticket.open_exists"

    def __init__(self, lock_key: str, holder: str):
        self.lock_key, self.holder = lock_key, holder
        super().__init__(f"[{self.code}] {lock_key} is held by {holder}")


def open_lock_key(customer_ref: str, reason: str) -> str:
    """The dedupe lock of a customer's open ticket for a reason: at most one holder at a time, taken
    with the ticket's create and released when that ticket resolves."""
    return f"open#{customer_ref}#{reason}"


class TicketRepo(Protocol):
    def create_schema(self) -> None: ...

    def create(self, ticket: Ticket) -> Ticket:
        """Store a new ticket; AlreadyExists if the id is taken (a replayed event). An open ticket
        with a customer takes the lock ``open_lock_key(customer, reason)`` in the same atomic write:
        OpenTicketExists (naming the holder) if another ticket holds it, and nothing is stored."""
        ...

    def get(self, ticket_id: str) -> Ticket | None: ...

    def save(self, ticket: Ticket) -> Ticket:
        """Store a changed ticket read at ``ticket.version``; returns it at version + 1. StaleTicket
        when someone saved first, NotFound when it does not exist. Saving it resolved releases its
        open lock in the same atomic write."""
        ...

    def lock_holder(self, customer_ref: str, reason: str) -> str | None:
        """The id of the ticket holding the open lock (a strongly consistent read), or None."""
        ...

    def find_open(self, customer_ref: str, reason: str) -> Ticket | None:
        """The open ticket of this customer for this reason: the lock's holder, else (tickets from
        before the lock) the oldest one that is not resolved."""
        ...

    def list(self, queue: Queue | None = None, status: TicketStatus | None = None) -> list[Ticket]:
        """Priority first, then SLA due (what an agent should pick next comes first)."""
        ...


def sort_for_agents(tickets: list[Ticket]) -> list[Ticket]:
    return sorted(tickets, key=lambda t: (t.priority.value, t.sla_due, t.ticket_id))
