"""SQLite twins of the DynamoDB decision store and pseudonym vault (local runs and tests).

Why a connection per thread, kept: the log is shared by request threads, and sqlite3 connections
are not; opening one per call (and switching it to WAL each time) cost more than the statements
it ran (a sixth of the card-event stream's time). Each thread (and each process: a forked child
opens its own) keeps one connection per store; WAL is set when it opens, and a busy timeout lets
writers in other threads or processes queue instead of failing. The log keeps SQLite's default
``synchronous=FULL``: a decision is on disk when its append returns, before the head anchor
(fsync'd too) can name it, so a power cut never leaves the anchor ahead of the chain.
"""
from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Iterator, Sequence

from chalicelib.core.clock import sortable_utc, utcnow
from chalicelib.governance.decision_log.chain import StoredRecord
from chalicelib.governance.decision_log.errors import DuplicateDecisionId
from chalicelib.storage.sqlite_conn import enable_wal


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=30, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=30000")
    enable_wal(conn, 30.0)  # retried: several worker processes may open a new log file at once
    return conn


class ThreadConnections:
    """One connection per thread and process on one file, opened on first use."""

    def __init__(self, path: Path):
        self.path = path
        self._local = threading.local()

    def get(self) -> sqlite3.Connection:
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            local.conn, local.pid = _connect(self.path), os.getpid()
        return local.conn

    def close(self) -> None:
        """Close this thread's connection (others close when their thread ends)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            conn.close()
        self._local.__dict__.clear()


class SqliteDecisionStore:
    """Local twin of the DynamoDB store."""

    TABLE = "governance_decisions"
    # Records one ``try_append_many`` writes in one transaction (the fraud stream's batch is ~100).
    max_batch = 500
    _INSERT = f"INSERT INTO {TABLE} (seq, decision_id, at, customer_ref, hash, doc) VALUES (?,?,?,?,?,?)"
    _COLUMNS = "seq, decision_id, hash, doc, at, customer_ref"

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._conns = ThreadConnections(self.path)

    def close(self) -> None:
        self._conns.close()

    def create_schema(self) -> None:
        c = self._conns.get()
        c.execute(
            f"""CREATE TABLE IF NOT EXISTS {self.TABLE} (
                seq INTEGER PRIMARY KEY,
                decision_id TEXT NOT NULL UNIQUE,
                at TEXT NOT NULL,
                customer_ref TEXT,
                hash TEXT NOT NULL,
                doc TEXT NOT NULL)"""
        )
        c.execute(f"CREATE INDEX IF NOT EXISTS {self.TABLE}_ref ON {self.TABLE}(customer_ref, seq)")
        c.execute(f"CREATE INDEX IF NOT EXISTS {self.TABLE}_at ON {self.TABLE}(at)")
        # Append-only at the storage level too: the application never updates or deletes.
        for op in ("DELETE", "UPDATE"):
            c.execute(
                f"""CREATE TRIGGER IF NOT EXISTS {self.TABLE}_no_{op.lower()} BEFORE {op} ON {self.TABLE}
                    BEGIN SELECT RAISE(ABORT, 'decision log is append-only'); END"""
            )

    def head(self) -> tuple[int, str] | None:
        row = self._conns.get().execute(f"SELECT seq, hash FROM {self.TABLE} ORDER BY seq DESC LIMIT 1").fetchone()
        return (row[0], row[1]) if row else None

    def try_append(self, seq, decision_id, at, customer_ref, hash, doc) -> bool:
        return self.try_append_many([(seq, decision_id, at, customer_ref, hash, doc)])

    def try_append_many(self, rows: Sequence[tuple[int, str, str, str | None, str, str]]) -> bool:
        """All ``rows`` in one transaction, or none: False when a seq is taken, DuplicateDecisionId
        naming the first id already recorded."""
        c = self._conns.get()
        c.execute("BEGIN IMMEDIATE")
        try:
            for row in rows:
                try:
                    c.execute(self._INSERT, row)
                except sqlite3.IntegrityError as exc:
                    c.execute("ROLLBACK")
                    if "decision_id" in str(exc):
                        raise DuplicateDecisionId(row[1]) from exc
                    return False
        except BaseException:
            if c.in_transaction:
                c.execute("ROLLBACK")
            raise
        c.execute("COMMIT")
        return True

    def get(self, decision_id: str) -> StoredRecord | None:
        row = self._conns.get().execute(
            f"SELECT {self._COLUMNS} FROM {self.TABLE} WHERE decision_id = ?", (decision_id,)).fetchone()
        return StoredRecord(*row, has_columns=True) if row else None

    def records(self, since: datetime | None = None) -> Iterator[StoredRecord]:
        sql = f"SELECT {self._COLUMNS} FROM {self.TABLE}"
        args: tuple = ()
        if since is not None:
            sql += " WHERE at >= ?"
            args = (sortable_utc(since),)
        # A connection of its own, streamed: the whole log (verify, export, replay) need not fit in
        # memory, and a caller may append on this thread's connection while iterating.
        with closing(_connect(self.path)) as c:
            for row in c.execute(sql + " ORDER BY seq", args):
                yield StoredRecord(*row, has_columns=True)

    def records_for_ref(self, customer_ref: str) -> list[StoredRecord]:
        rows = self._conns.get().execute(
            f"SELECT {self._COLUMNS} FROM {self.TABLE} WHERE customer_ref = ? ORDER BY seq", (customer_ref,)
        ).fetchall()
        return [StoredRecord(*r, has_columns=True) for r in rows]


class SqlitePseudonymVault:
    TABLE = "governance_pseudonym_keys"

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._conns = ThreadConnections(self.path)

    def close(self) -> None:
        self._conns.close()

    def create_schema(self) -> None:
        self._conns.get().execute(
            f"CREATE TABLE IF NOT EXISTS {self.TABLE} (customer_id TEXT PRIMARY KEY, key BLOB NOT NULL, created_at TEXT NOT NULL)"
        )

    def get_key(self, customer_id: str) -> bytes | None:
        row = self._conns.get().execute(f"SELECT key FROM {self.TABLE} WHERE customer_id = ?", (customer_id,)).fetchone()
        return bytes(row[0]) if row else None

    def create_key(self, customer_id: str, key: bytes) -> bytes:
        c = self._conns.get()
        c.execute(
            f"INSERT OR IGNORE INTO {self.TABLE} (customer_id, key, created_at) VALUES (?,?,?)",
            (customer_id, key, sortable_utc(utcnow())),
        )
        row = c.execute(f"SELECT key FROM {self.TABLE} WHERE customer_id = ?", (customer_id,)).fetchone()
        return bytes(row[0])

    def delete_key(self, customer_id: str) -> bool:
        return self._conns.get().execute(f"DELETE FROM {self.TABLE} WHERE customer_id = ?", (customer_id,)).rowcount > 0
