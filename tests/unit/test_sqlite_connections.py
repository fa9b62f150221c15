"""Every SQLite store opens its connections through chalicelib/storage/sqlite_conn.open_connection, so stores on one
file cannot disagree about the journal, the sync level or how long a write waits for another process."""
from __future__ import annotations

from contextlib import closing

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
