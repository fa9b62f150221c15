"""Every SQLite store opens its connections through chalicelib/storage/sqlite_conn.open_connection, so stores on one
file cannot disagree about the journal, the sync level or how long a write waits for another process."""
from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest

from chalicelib.fraud.ledger import SqliteEventLedger
from chalicelib.storage.idempotency import SqliteIdempotencyStore
from chalicelib.storage.sqlite_conn import SqliteDb


def _settings(conn) -> tuple[str, int, int]:
    return (conn.execute("PRAGMA journal_mode").fetchone()[0], conn.execute("PRAGMA synchronous").fetchone()[0],
            conn.execute("PRAGMA busy_timeout").fetchone()[0])


def test_idempotency_and_ledger_connections_match_the_stores(tmp_path):
    """Given the idempotency store and the card-event ledger on the store's file / When each opens a connection /
    Then both are in WAL with synchronous NORMAL like the store's own connection, and wait 30 s for a busy file
    (several worker processes claim keys there) where the store waits 5 s."""
    db = tmp_path / "one.db"
    store = SqliteDb(db)
    idem = SqliteIdempotencyStore(db)
    idem.create_schema()
    ledger = SqliteEventLedger(db)
    ledger.create_schema()
    with closing(idem._connect()) as c:
        assert _settings(c) == ("wal", 1, 30000)
    assert _settings(ledger._conn()) == ("wal", 1, 30000)
    assert _settings(store.conn) == ("wal", 1, 5000)
    ledger.close()
    store.close()


def test_both_still_work_on_one_file(tmp_path):
    """Given the idempotency store and the ledger on one file / When a key is claimed and completed and an order key
    advanced / Then each reads back what it wrote."""
    db = tmp_path / "one.db"
    idem = SqliteIdempotencyStore(db)
    idem.create_schema()
    ledger = SqliteEventLedger(db)
    ledger.create_schema()
    assert idem.claim("k", 100.0, 200, 150_000) is None
    idem.complete("k", '{"ok": 1}', 200)
    assert idem.get("k").completed and idem.get("k").data == '{"ok": 1}'
    assert ledger.advance("txn-1", (3, "2026-12-01T00:00:00Z")) is True
    assert ledger.advance("txn-1", (2, "2026-12-01T00:00:00Z")) is False
    assert ledger.order_key("txn-1") == (3, "2026-12-01T00:00:00Z")
    ledger.close()


class _BusyConnection:
    """A connection whose journal-mode switch is refused ``busy`` times, as SQLite refuses it while
    another process creates the same file, then succeeds."""

    def __init__(self, busy: int, message: str = "database is locked"):
        self.busy, self.message, self.calls = busy, message, []

    def execute(self, sql):
        self.calls.append(sql)
        if sql == "PRAGMA journal_mode = WAL" and self.busy:
            self.busy -= 1
            raise sqlite3.OperationalError(self.message)

        class _Row:
            @staticmethod
            def fetchone():
                return ("delete",)
        return _Row()


def test_wal_switch_waits_out_a_locked_file():
    """Given a file another process holds while it is being created (the switch is refused twice)
    When a store opens it in WAL mode
    Then the switch is retried until it succeeds, instead of failing the store's construction."""
    from chalicelib.storage.sqlite_conn import enable_wal

    conn = _BusyConnection(busy=2)
    enable_wal(conn, timeout_s=1.0, pause_s=0)
    assert conn.calls.count("PRAGMA journal_mode = WAL") == 3


def test_wal_switch_gives_up_after_its_timeout_and_other_errors_are_not_retried():
    """Given a file that stays locked, or an error that is not a lock
    When the WAL switch is attempted
    Then the lock is raised once the timeout has passed, and the other error at once."""
    from chalicelib.storage.sqlite_conn import enable_wal

    with pytest.raises(sqlite3.OperationalError, match="locked"):
        enable_wal(_BusyConnection(busy=10**9), timeout_s=0.05, pause_s=0.001)
    other = _BusyConnection(busy=5, message="disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk"):
        enable_wal(other, timeout_s=5.0, pause_s=0)
    assert other.calls.count("PRAGMA journal_mode = WAL") == 1
