"""The open lock across processes: Lambda containers (or `chalice local` workers) on one SQLite file
each hold their own connection, and two different events of one customer and reason must still
open one ticket."""
from __future__ import annotations

import multiprocessing
from datetime import datetime, timezone

from chalicelib.tickets.service import new_ticket, open_ticket
from chalicelib.tickets.store_sqlite import SqliteTicketStore
from tests.support.races import race_processes

T0 = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
PROCESSES = 4


def _open_in_a_process(path, counter, barrier, out):
    """One process = one container: its own store handle, its own event (a different source ref)."""
    with counter.get_lock():
        counter.value += 1
        index = counter.value
    repo = SqliteTicketStore(path)
    draft = new_ticket(created_by="email", source_ref=f"rec-{index}", reason="email_dispute", queue="disputes",
                       priority="P2", customer_ref="demo-bob", summary="charged twice", now=T0)
    barrier.wait()
    opened = open_ticket(repo, draft)
    out.put((opened.outcome, opened.ticket.ticket_id))


def test_processes_opening_different_events_of_one_customer_and_reason_make_one_ticket(tmp_path):
    """Given one SQLite ticket file, When four processes open four different events of one customer
    and reason at once, Then one creates, three merge into it, and the file holds one ticket with
    three merge notes and one open lock."""
    path = tmp_path / "tickets.db"
    SqliteTicketStore(path).create_schema()
    ctx = multiprocessing.get_context("fork")
    results = race_processes(ctx, PROCESSES, _open_in_a_process, path, ctx.Value("i", 0), timeout_s=60)
    assert sorted(r[0] for r in results) == ["created"] + ["merged"] * (PROCESSES - 1)
    assert len({r[1] for r in results}) == 1
    repo = SqliteTicketStore(path)
    (only,) = repo.list()
    assert sum(n.text.startswith("merged duplicate request") for n in only.notes) == PROCESSES - 1
    assert repo.lock_holder("demo-bob", "email_dispute") == only.ticket_id
