"""Dispute cases and hand-offs to humans in SQLite: at most one case per charge (a UNIQUE
column, not a read before the write), and case moves checked inside one IMMEDIATE transaction."""
from __future__ import annotations

from chalicelib.core.models import CaseState, DisputeCase, Handoff
from chalicelib.storage.base import NotFound
from chalicelib.storage.common import time_key, transitioned, with_initial_history
from chalicelib.storage.sqlite_conn import SqliteDb, load_one, load_rows

SCHEMA = """
CREATE TABLE IF NOT EXISTS cases (
    customer_id TEXT NOT NULL,
    case_id     TEXT NOT NULL,
    txn_id      TEXT NOT NULL,
    state       TEXT NOT NULL,
    created_key TEXT NOT NULL,
    updated_key TEXT NOT NULL,
    data        TEXT NOT NULL,
    PRIMARY KEY (customer_id, case_id),
    UNIQUE (customer_id, txn_id)
);
CREATE TABLE IF NOT EXISTS handoffs (
    handoff_id  TEXT PRIMARY KEY,
    session_id  TEXT NOT NULL,
    created_key TEXT NOT NULL,
    data        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS handoffs_by_session ON handoffs (session_id, created_key, handoff_id);
"""
TABLES = ("cases", "handoffs")


class SqliteCaseRepo:
    def __init__(self, db: SqliteDb):
        self._db = db

    def create(self, case: DisputeCase) -> DisputeCase:
        stored = with_initial_history(case)
        self._db.insert(
            "INSERT INTO cases (customer_id, case_id, txn_id, state, created_key, updated_key, data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                stored.customer_id,
                stored.case_id,
                stored.txn_id,
                stored.state.value,
                time_key(stored.created_at),
                time_key(stored.updated_at),
                stored.model_dump_json(),
            ),
            exists=f"case {stored.case_id} or a case on {stored.txn_id} already exists for {stored.customer_id}",
        )
        return stored

    def get(self, customer_id: str, case_id: str) -> DisputeCase | None:
        return load_one(
            DisputeCase,
            self._db.read("SELECT data FROM cases WHERE customer_id = ? AND case_id = ?", (customer_id, case_id)),
        )

    def find_by_transaction(self, customer_id: str, txn_id: str) -> DisputeCase | None:
        return load_one(
            DisputeCase,
            self._db.read("SELECT data FROM cases WHERE customer_id = ? AND txn_id = ?", (customer_id, txn_id)),
        )

    def list_for_customer(self, customer_id: str) -> list[DisputeCase]:
        return load_rows(
            DisputeCase,
            self._db.read(
                "SELECT data FROM cases WHERE customer_id = ? ORDER BY created_key DESC, case_id DESC", (customer_id,)
            ),
        )

    def transition(self, customer_id: str, case_id: str, new_state: CaseState, note: str = "", *,
                   actor: str | None = None, actor_kind: str | None = None) -> DisputeCase:
        # Read, check and write inside one IMMEDIATE transaction: no other writer (thread or
        # process) can move the case between our read and our write.
        with self._db.tx() as c:
            rows = c.execute(
                "SELECT data FROM cases WHERE customer_id = ? AND case_id = ?", (customer_id, case_id)
            ).fetchall()
            if not rows:
                raise NotFound(f"case {case_id} not found for {customer_id}")
            current = DisputeCase.model_validate_json(rows[0][0])
            updated = transitioned(current, new_state, note, actor=actor, actor_kind=actor_kind)
            c.execute(
                "UPDATE cases SET state = ?, updated_key = ?, data = ? WHERE customer_id = ? AND case_id = ? AND state = ?",
                (
                    updated.state.value,
                    time_key(updated.updated_at),
                    updated.model_dump_json(),
                    customer_id,
                    case_id,
                    current.state.value,
                ),
            )
        return updated


class SqliteHandoffRepo:
    def __init__(self, db: SqliteDb):
        self._db = db

    def create(self, handoff: Handoff) -> Handoff:
        self._db.insert(
            "INSERT INTO handoffs (handoff_id, session_id, created_key, data) VALUES (?, ?, ?, ?)",
            (handoff.handoff_id, handoff.session_id, time_key(handoff.created_at), handoff.model_dump_json()),
            exists=f"handoff {handoff.handoff_id} already exists",
        )
        return handoff.model_copy(deep=True)

    def get(self, handoff_id: str) -> Handoff | None:
        return load_one(Handoff, self._db.read("SELECT data FROM handoffs WHERE handoff_id = ?", (handoff_id,)))

    def list_for_session(self, session_id: str) -> list[Handoff]:
        """Oldest first: the order the session asked for them."""
        return load_rows(
            Handoff,
            self._db.read(
                "SELECT data FROM handoffs WHERE session_id = ? ORDER BY created_key, handoff_id", (session_id,)
            ),
        )
