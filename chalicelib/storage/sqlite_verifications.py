"""Step-up verification state in SQLite: each session's state changed only inside one IMMEDIATE
transaction (``update``), and per-customer failures counted over the lockout window."""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from chalicelib.core.models import VerificationState
from chalicelib.storage.common import time_key
from chalicelib.storage.sqlite_conn import SqliteDb, load_one

SCHEMA = """
CREATE TABLE IF NOT EXISTS verifications (
    session_id TEXT PRIMARY KEY,
    data       TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS verification_failures (
    customer_id TEXT NOT NULL,
    at_key      TEXT NOT NULL,
    seq         INTEGER PRIMARY KEY AUTOINCREMENT
);
CREATE INDEX IF NOT EXISTS verification_failures_by_customer ON verification_failures (customer_id, at_key);
"""
TABLES = ("verifications", "verification_failures")


class SqliteVerificationRepo:
    def __init__(self, db: SqliteDb):
        self._db = db

    def get(self, session_id: str) -> VerificationState | None:
        return load_one(
            VerificationState, self._db.read("SELECT data FROM verifications WHERE session_id = ?", (session_id,))
        )

    def put(self, state: VerificationState) -> None:
        with self._db.tx() as c:
            c.execute(
                "INSERT OR REPLACE INTO verifications (session_id, data) VALUES (?, ?)",
                (state.session_id, state.model_dump_json()),
            )

    def failures_for_customer(self, customer_id: str, since: datetime) -> int:
        rows = self._db.read(
            "SELECT COUNT(*) FROM verification_failures WHERE customer_id = ? AND at_key >= ?",
            (customer_id, time_key(since)),
        )
        return int(rows[0][0])

    def record_customer_failure(self, customer_id: str, at: datetime) -> None:
        with self._db.tx() as c:
            c.execute(
                "INSERT INTO verification_failures (customer_id, at_key) VALUES (?, ?)", (customer_id, time_key(at))
            )

    def update(
        self, session_id: str, change: Callable[[VerificationState | None], VerificationState | None]
    ) -> tuple[VerificationState | None, bool]:
        # BEGIN IMMEDIATE takes the write lock before the read: other threads and processes on
        # this file wait, so the change is applied to a state nobody else can alter meanwhile.
        with self._db.tx() as c:
            rows = c.execute("SELECT data FROM verifications WHERE session_id = ?", (session_id,)).fetchall()
            current = load_one(VerificationState, rows)
            new = change(current.model_copy(deep=True) if current else None)
            if new is None:
                return current, False
            c.execute(
                "INSERT OR REPLACE INTO verifications (session_id, data) VALUES (?, ?)",
                (session_id, new.model_dump_json()),
            )
            return new, True
