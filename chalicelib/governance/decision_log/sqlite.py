"""SQLite twins of the DynamoDB decision store and pseudonym vault (local runs and tests).

Why a connection per call: the log is shared by request threads, and sqlite3 connections are not;
WAL plus a busy timeout lets concurrent writers queue instead of failing.
"""
from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Iterator

from chalicelib.core.clock import sortable_utc, utcnow
from chalicelib.governance.decision_log.chain import StoredRecord
from chalicelib.governance.decision_log.errors import DuplicateDecisionId


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


class SqliteDecisionStore:
    """Local twin of the DynamoDB store; a connection per call keeps it thread-safe."""

    TABLE = "governance_decisions"

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def create_schema(self) -> None:
        with closing(_connect(self.path)) as c:
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
        with closing(_connect(self.path)) as c:
            row = c.execute(f"SELECT seq, hash FROM {self.TABLE} ORDER BY seq DESC LIMIT 1").fetchone()
        return (row[0], row[1]) if row else None

    def try_append(self, seq, decision_id, at, customer_ref, hash, doc) -> bool:
        with closing(_connect(self.path)) as c:
            try:
                c.execute(
                    f"INSERT INTO {self.TABLE} (seq, decision_id, at, customer_ref, hash, doc) VALUES (?,?,?,?,?,?)",
                    (seq, decision_id, at, customer_ref, hash, doc),
                )
                return True
            except sqlite3.IntegrityError as exc:
                if "decision_id" in str(exc):
                    raise DuplicateDecisionId(decision_id) from exc
                return False

    def get(self, decision_id: str) -> StoredRecord | None:
        with closing(_connect(self.path)) as c:
            row = c.execute(
                f"SELECT seq, decision_id, hash, doc, at, customer_ref FROM {self.TABLE} WHERE decision_id = ?", (decision_id,)
            ).fetchone()
        return StoredRecord(*row, has_columns=True) if row else None

    def records(self, since: datetime | None = None) -> Iterator[StoredRecord]:
        sql = f"SELECT seq, decision_id, hash, doc, at, customer_ref FROM {self.TABLE}"
        args: tuple = ()
        if since is not None:
            sql += " WHERE at >= ?"
            args = (sortable_utc(since),)
        with closing(_connect(self.path)) as c:
            for row in c.execute(sql + " ORDER BY seq", args):
                yield StoredRecord(*row, has_columns=True)

    def records_for_ref(self, customer_ref: str) -> list[StoredRecord]:
        with closing(_connect(self.path)) as c:
            rows = c.execute(
                f"SELECT seq, decision_id, hash, doc, at, customer_ref FROM {self.TABLE} WHERE customer_ref = ? ORDER BY seq",
                (customer_ref,),
            ).fetchall()
        return [StoredRecord(*r, has_columns=True) for r in rows]


class SqlitePseudonymVault:
    TABLE = "governance_pseudonym_keys"

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def create_schema(self) -> None:
        with closing(_connect(self.path)) as c:
            c.execute(
                f"CREATE TABLE IF NOT EXISTS {self.TABLE} (customer_id TEXT PRIMARY KEY, key BLOB NOT NULL, created_at TEXT NOT NULL)"
            )

    def get_key(self, customer_id: str) -> bytes | None:
        with closing(_connect(self.path)) as c:
            row = c.execute(f"SELECT key FROM {self.TABLE} WHERE customer_id = ?", (customer_id,)).fetchone()
        return bytes(row[0]) if row else None

    def create_key(self, customer_id: str, key: bytes) -> bytes:
        with closing(_connect(self.path)) as c:
            c.execute(
                f"INSERT OR IGNORE INTO {self.TABLE} (customer_id, key, created_at) VALUES (?,?,?)",
                (customer_id, key, sortable_utc(utcnow())),
            )
            row = c.execute(f"SELECT key FROM {self.TABLE} WHERE customer_id = ?", (customer_id,)).fetchone()
        return bytes(row[0])

    def delete_key(self, customer_id: str) -> bool:
        with closing(_connect(self.path)) as c:
            cur = c.execute(f"DELETE FROM {self.TABLE} WHERE customer_id = ?", (customer_id,))
            return cur.rowcount > 0

