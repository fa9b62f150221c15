"""Tickets in SQLite: the pydantic model as JSON plus the columns the access patterns need.

The open lock is a row of ``ticket_locks`` (its key is the PRIMARY KEY, so a second holder is a
unique-constraint failure), inserted in the ticket's own IMMEDIATE transaction and deleted in the
transaction that saves the ticket resolved: threads and processes on one file see one holder.
"""
from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from chalicelib.storage.common import time_key
from chalicelib.storage.sqlite_conn import open_connection
from chalicelib.tickets.model import Queue, Ticket, TicketStatus
from chalicelib.storage.base import RepositoryError
from chalicelib.tickets.store import AlreadyExists, NotFound, OpenTicketExists, StaleTicket, open_lock_key, sort_for_agents

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    ticket_id    TEXT PRIMARY KEY,
    queue        TEXT NOT NULL,
    status       TEXT NOT NULL,
    customer_ref TEXT,
    reason       TEXT NOT NULL,
    created_key  TEXT NOT NULL,
    version      INTEGER NOT NULL,
    data         TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tickets_by_queue ON tickets (queue, status);
CREATE INDEX IF NOT EXISTS tickets_open_by_customer ON tickets (customer_ref, reason, status, created_key);
CREATE TABLE IF NOT EXISTS ticket_locks (
    lock_key  TEXT PRIMARY KEY,
    ticket_id TEXT NOT NULL
);
"""
# Tickets stored before the lock existed: the oldest open one per customer and reason holds it.
_BACKFILL = """
INSERT OR IGNORE INTO ticket_locks (lock_key, ticket_id)
SELECT 'open#' || customer_ref || '#' || reason, ticket_id FROM tickets
WHERE customer_ref IS NOT NULL AND status != 'resolved' ORDER BY created_key, ticket_id
"""


class SqliteTicketStore:
    def __init__(self, path: str | Path):
        self.path = str(path)
        self._lock = threading.RLock()
        self._conn = open_connection(self.path, wal=False)

    def create_schema(self) -> None:
        with self._lock:
            self._conn.executescript(_SCHEMA)
        with self._tx() as c:
            c.execute(_BACKFILL)

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: no other writer (thread or process) between its statements."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise RepositoryError(f"sqlite: {exc}") from exc
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def close(self) -> None:
        self._conn.close()

    def _row(self, t: Ticket) -> tuple:
        return (t.ticket_id, t.queue.value, t.status.value, t.customer_ref, t.reason, time_key(t.created_at),
                t.version, t.model_dump_json())

    def create(self, ticket: Ticket) -> Ticket:
        with self._tx() as c:
            try:
                c.execute("INSERT INTO tickets VALUES (?, ?, ?, ?, ?, ?, ?, ?)", self._row(ticket))
            except sqlite3.IntegrityError:
                raise AlreadyExists(ticket.ticket_id) from None
            if ticket.customer_ref and ticket.is_open:
                key = open_lock_key(ticket.customer_ref, ticket.reason)
                try:
                    c.execute("INSERT INTO ticket_locks (lock_key, ticket_id) VALUES (?, ?)", (key, ticket.ticket_id))
                except sqlite3.IntegrityError:
                    holder = c.execute("SELECT ticket_id FROM ticket_locks WHERE lock_key = ?", (key,)).fetchone()
                    raise OpenTicketExists(key, holder[0] if holder else "?") from None
        return ticket.model_copy(deep=True)

    def lock_holder(self, customer_ref: str, reason: str) -> str | None:
        with self._lock:
            row = self._conn.execute("SELECT ticket_id FROM ticket_locks WHERE lock_key = ?",
                                     (open_lock_key(customer_ref, reason),)).fetchone()
        return row[0] if row else None

    def get(self, ticket_id: str) -> Ticket | None:
        with self._lock:
            row = self._conn.execute("SELECT data FROM tickets WHERE ticket_id = ?", (ticket_id,)).fetchone()
        return Ticket.model_validate_json(row[0]) if row else None

    def save(self, ticket: Ticket) -> Ticket:
        saved = ticket.model_copy(deep=True, update={"version": ticket.version + 1})
        with self._tx() as c:
            cur = c.execute(
                "UPDATE tickets SET queue = ?, status = ?, customer_ref = ?, reason = ?, version = ?, data = ? "
                "WHERE ticket_id = ? AND version = ?",
                (saved.queue.value, saved.status.value, saved.customer_ref, saved.reason, saved.version,
                 saved.model_dump_json(), ticket.ticket_id, ticket.version),
            )
            if cur.rowcount == 0:
                exists = c.execute("SELECT 1 FROM tickets WHERE ticket_id = ?", (ticket.ticket_id,)).fetchone()
                raise StaleTicket(ticket.ticket_id) if exists else NotFound(ticket.ticket_id)
            if not saved.is_open and saved.customer_ref:
                c.execute("DELETE FROM ticket_locks WHERE lock_key = ? AND ticket_id = ?",
                          (open_lock_key(saved.customer_ref, saved.reason), saved.ticket_id))
        return saved

    def find_open(self, customer_ref: str, reason: str) -> Ticket | None:
        holder = self.lock_holder(customer_ref, reason)
        if holder is not None and (held := self.get(holder)) is not None and held.is_open:
            return held
        with self._lock:
            row = self._conn.execute(
                "SELECT data FROM tickets WHERE customer_ref = ? AND reason = ? AND status != ? "
                "ORDER BY created_key, ticket_id LIMIT 1",
                (customer_ref, reason, TicketStatus.resolved.value),
            ).fetchone()
        return Ticket.model_validate_json(row[0]) if row else None

    def list(self, queue: Queue | None = None, status: TicketStatus | None = None) -> list[Ticket]:
        sql, params = "SELECT data FROM tickets WHERE 1 = 1", []
        if queue is not None:
            sql, params = sql + " AND queue = ?", params + [Queue(queue).value]
        if status is not None:
            sql, params = sql + " AND status = ?", params + [TicketStatus(status).value]
        with self._lock:
            rows = self._conn.execute(sql, params).fetchall()
        return sort_for_agents([Ticket.model_validate_json(r[0]) for r in rows])
