"""The embedded SQLite store: the whole assistant runs on one machine with no AWS account.

Each aggregate is one table: the pydantic model as a JSON column (``data``) plus the key columns
its access patterns filter and sort on, mirroring the DynamoDB key design (docs/storage.md) so
the two backends behave the same under the contract suite.

One connection, shared by every thread behind a lock: ``chalice local`` serves requests from a
thread pool, and a single serialised connection in WAL mode is both simpler and faster than a
connection per thread for a store this size (a lookup is well under a millisecond).
"""
from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator, TypeVar

from pydantic import BaseModel

from chalicelib.core.models import (
    Card,
    CaseState,
    Customer,
    DisputeCase,
    FraudDecision,
    Handoff,
    Transaction,
    TriageRecord,
    VerificationState,
)
from chalicelib.storage.base import AlreadyExists, NotFound, RepositoryError
from chalicelib.storage.common import time_key, transitioned, with_initial_history

M = TypeVar("M", bound=BaseModel)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS customers (
    customer_id TEXT PRIMARY KEY,
    data        TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cards (
    customer_id TEXT NOT NULL,
    card_id     TEXT NOT NULL,
    last4       TEXT NOT NULL,
    data        TEXT NOT NULL,
    PRIMARY KEY (customer_id, card_id)
);
CREATE INDEX IF NOT EXISTS cards_by_last4 ON cards (last4);
CREATE TABLE IF NOT EXISTS transactions (
    customer_id  TEXT NOT NULL,
    txn_id       TEXT NOT NULL,
    occurred_key TEXT NOT NULL,
    data         TEXT NOT NULL,
    PRIMARY KEY (customer_id, txn_id)
);
CREATE INDEX IF NOT EXISTS transactions_by_time ON transactions (customer_id, occurred_key, txn_id);
CREATE TABLE IF NOT EXISTS fraud_decisions (
    customer_id TEXT NOT NULL,
    decision_id TEXT NOT NULL,
    txn_id      TEXT NOT NULL,
    created_key TEXT NOT NULL,
    data        TEXT NOT NULL,
    PRIMARY KEY (customer_id, decision_id)
);
CREATE INDEX IF NOT EXISTS fraud_by_txn ON fraud_decisions (customer_id, txn_id, created_key);
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
CREATE INDEX IF NOT EXISTS customers_by_email ON customers (lower(trim(json_extract(data, '$.email'))));
CREATE TABLE IF NOT EXISTS triage_records (
    record_id    TEXT PRIMARY KEY,
    s3_object    TEXT NOT NULL,
    customer_id  TEXT,
    received_key TEXT NOT NULL,
    data         TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS triage_by_s3_object ON triage_records (s3_object);
CREATE INDEX IF NOT EXISTS triage_by_customer ON triage_records (customer_id, received_key);
"""

_TABLES = (
    "customers",
    "cards",
    "transactions",
    "fraud_decisions",
    "cases",
    "handoffs",
    "verifications",
    "verification_failures",
    "triage_records",
)


class _Db:
    """The shared connection and its lock; every repository goes through ``tx``."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a read-check-write (case
        # transitions) is one IMMEDIATE transaction and cannot interleave with another process.
        self.conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=5.0)
        self.conn.execute("PRAGMA busy_timeout = 5000")
        if self.path != ":memory:":
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            # Inside an open transaction (a caller's unit of work, e.g. one Kinesis batch) a tx is a
            # savepoint: it still rolls back alone, and the caller's COMMIT makes it durable.
            begin, commit, undo = (("SAVEPOINT tx", "RELEASE tx", ("ROLLBACK TO tx", "RELEASE tx"))
                                   if self.conn.in_transaction else ("BEGIN IMMEDIATE", "COMMIT", ("ROLLBACK",)))
            try:
                self.conn.execute(begin)
                try:
                    yield self.conn
                except BaseException:
                    for stmt in undo:
                        self.conn.execute(stmt)
                    raise
                self.conn.execute(commit)
            except (AlreadyExists, NotFound, RepositoryError):
                raise
            except sqlite3.Error as exc:
                raise RepositoryError(f"sqlite: {exc}") from exc

    def read(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self.lock:
            try:
                return self.conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise RepositoryError(f"sqlite: {exc}") from exc


def _load(model: type[M], rows: list[tuple]) -> list[M]:
    return [model.model_validate_json(r[0]) for r in rows]


def _one(model: type[M], rows: list[tuple]) -> M | None:
    return model.model_validate_json(rows[0][0]) if rows else None


class SqliteCustomerRepo:
    def __init__(self, db: _Db):
        self._db = db

    def put(self, customer: Customer) -> None:
        with self._db.tx() as c:
            c.execute(
                "INSERT OR REPLACE INTO customers (customer_id, data) VALUES (?, ?)",
                (customer.customer_id, customer.model_dump_json()),
            )

    def get(self, customer_id: str) -> Customer | None:
        return _one(Customer, self._db.read("SELECT data FROM customers WHERE customer_id = ?", (customer_id,)))

    def list_ids(self) -> list[str]:
        return [r[0] for r in self._db.read("SELECT customer_id FROM customers ORDER BY customer_id")]

    def delete(self, customer_id: str) -> None:
        with self._db.tx() as c:
            c.execute("DELETE FROM customers WHERE customer_id = ?", (customer_id,))

    def find_by_email(self, email: str) -> list[Customer]:
        return _load(
            Customer,
            self._db.read(
                "SELECT data FROM customers WHERE lower(trim(json_extract(data, '$.email'))) = ? ORDER BY customer_id",
                (email.strip().lower(),),
            ),
        )


class SqliteCardRepo:
    def __init__(self, db: _Db):
        self._db = db

    def put(self, card: Card) -> None:
        with self._db.tx() as c:
            c.execute(
                "INSERT OR REPLACE INTO cards (customer_id, card_id, last4, data) VALUES (?, ?, ?, ?)",
                (card.customer_id, card.card_id, card.last4, card.model_dump_json()),
            )

    def list_for_customer(self, customer_id: str) -> list[Card]:
        return _load(Card, self._db.read("SELECT data FROM cards WHERE customer_id = ? ORDER BY card_id", (customer_id,)))

    def find_by_last4(self, last4: str) -> list[Card]:
        return _load(
            Card, self._db.read("SELECT data FROM cards WHERE last4 = ? ORDER BY customer_id, card_id", (last4,))
        )


class SqliteTransactionRepo:
    def __init__(self, db: _Db):
        self._db = db

    @staticmethod
    def _row(t: Transaction) -> tuple:
        return (t.customer_id, t.txn_id, time_key(t.occurred_at), t.model_dump_json())

    def put(self, txn: Transaction) -> None:
        self.put_many([txn])

    def put_many(self, txns: list[Transaction]) -> None:
        with self._db.tx() as c:
            c.executemany(
                "INSERT OR REPLACE INTO transactions (customer_id, txn_id, occurred_key, data) VALUES (?, ?, ?, ?)",
                [self._row(t) for t in txns],
            )

    def get(self, customer_id: str, txn_id: str) -> Transaction | None:
        return _one(
            Transaction,
            self._db.read("SELECT data FROM transactions WHERE customer_id = ? AND txn_id = ?", (customer_id, txn_id)),
        )

    def list_for_customer(
        self, customer_id: str, since: datetime | None = None, until: datetime | None = None
    ) -> list[Transaction]:
        sql = "SELECT data FROM transactions WHERE customer_id = ?"
        params: list = [customer_id]
        if since is not None:
            sql += " AND occurred_key >= ?"
            params.append(time_key(since))
        if until is not None:
            sql += " AND occurred_key <= ?"
            params.append(time_key(until))
        sql += " ORDER BY occurred_key DESC, txn_id DESC"
        return _load(Transaction, self._db.read(sql, tuple(params)))


class SqliteFraudDecisionRepo:
    def __init__(self, db: _Db):
        self._db = db

    def put(self, decision: FraudDecision) -> None:
        with self._db.tx() as c:
            c.execute(
                "INSERT OR REPLACE INTO fraud_decisions (customer_id, decision_id, txn_id, created_key, data)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    decision.customer_id,
                    decision.decision_id,
                    decision.txn_id,
                    time_key(decision.created_at),
                    decision.model_dump_json(),
                ),
            )

    def get_for_transaction(self, customer_id: str, txn_id: str) -> FraudDecision | None:
        """The latest decision on the transaction (a re-scored payment keeps its history)."""
        return _one(
            FraudDecision,
            self._db.read(
                "SELECT data FROM fraud_decisions WHERE customer_id = ? AND txn_id = ?"
                " ORDER BY created_key DESC, decision_id DESC LIMIT 1",
                (customer_id, txn_id),
            ),
        )

    def list_for_customer(self, customer_id: str) -> list[FraudDecision]:
        """Newest first."""
        return _load(
            FraudDecision,
            self._db.read(
                "SELECT data FROM fraud_decisions WHERE customer_id = ? ORDER BY created_key DESC, decision_id DESC",
                (customer_id,),
            ),
        )


class SqliteCaseRepo:
    def __init__(self, db: _Db):
        self._db = db

    def create(self, case: DisputeCase) -> DisputeCase:
        stored = with_initial_history(case)
        try:
            with self._db.tx() as c:
                c.execute(
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
                )
        except RepositoryError as exc:
            if isinstance(exc.__cause__, sqlite3.IntegrityError):
                raise AlreadyExists(
                    f"case {stored.case_id} or a case on {stored.txn_id} already exists for {stored.customer_id}"
                ) from exc
            raise
        return stored

    def get(self, customer_id: str, case_id: str) -> DisputeCase | None:
        return _one(
            DisputeCase,
            self._db.read("SELECT data FROM cases WHERE customer_id = ? AND case_id = ?", (customer_id, case_id)),
        )

    def find_by_transaction(self, customer_id: str, txn_id: str) -> DisputeCase | None:
        return _one(
            DisputeCase,
            self._db.read("SELECT data FROM cases WHERE customer_id = ? AND txn_id = ?", (customer_id, txn_id)),
        )

    def list_for_customer(self, customer_id: str) -> list[DisputeCase]:
        return _load(
            DisputeCase,
            self._db.read(
                "SELECT data FROM cases WHERE customer_id = ? ORDER BY created_key DESC, case_id DESC", (customer_id,)
            ),
        )

    def transition(self, customer_id: str, case_id: str, new_state: CaseState, note: str = "") -> DisputeCase:
        # Read, check and write inside one IMMEDIATE transaction: no other writer (thread or
        # process) can move the case between our read and our write.
        with self._db.tx() as c:
            rows = c.execute(
                "SELECT data FROM cases WHERE customer_id = ? AND case_id = ?", (customer_id, case_id)
            ).fetchall()
            if not rows:
                raise NotFound(f"case {case_id} not found for {customer_id}")
            current = DisputeCase.model_validate_json(rows[0][0])
            updated = transitioned(current, new_state, note)
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
    def __init__(self, db: _Db):
        self._db = db

    def create(self, handoff: Handoff) -> Handoff:
        try:
            with self._db.tx() as c:
                c.execute(
                    "INSERT INTO handoffs (handoff_id, session_id, created_key, data) VALUES (?, ?, ?, ?)",
                    (handoff.handoff_id, handoff.session_id, time_key(handoff.created_at), handoff.model_dump_json()),
                )
        except RepositoryError as exc:
            if isinstance(exc.__cause__, sqlite3.IntegrityError):
                raise AlreadyExists(f"handoff {handoff.handoff_id} already exists") from exc
            raise
        return handoff.model_copy(deep=True)

    def get(self, handoff_id: str) -> Handoff | None:
        return _one(Handoff, self._db.read("SELECT data FROM handoffs WHERE handoff_id = ?", (handoff_id,)))

    def list_for_session(self, session_id: str) -> list[Handoff]:
        """Oldest first: the order the session asked for them."""
        return _load(
            Handoff,
            self._db.read(
                "SELECT data FROM handoffs WHERE session_id = ? ORDER BY created_key, handoff_id", (session_id,)
            ),
        )


class SqliteVerificationRepo:
    def __init__(self, db: _Db):
        self._db = db

    def get(self, session_id: str) -> VerificationState | None:
        return _one(
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
            current = _one(VerificationState, rows)
            new = change(current.model_copy(deep=True) if current else None)
            if new is None:
                return current, False
            c.execute(
                "INSERT OR REPLACE INTO verifications (session_id, data) VALUES (?, ?)",
                (session_id, new.model_dump_json()),
            )
            return new, True


def _s3_ref(bucket: str, key: str) -> str:
    return f"{bucket}/{key}"


class SqliteTriageRepo:
    def __init__(self, db: _Db):
        self._db = db

    def create(self, record: TriageRecord) -> TriageRecord:
        try:
            with self._db.tx() as c:
                c.execute(
                    "INSERT INTO triage_records (record_id, s3_object, customer_id, received_key, data)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (
                        record.record_id,
                        _s3_ref(record.s3_bucket, record.s3_key),
                        record.matched_customer_id,
                        time_key(record.received_at),
                        record.model_dump_json(),
                    ),
                )
        except RepositoryError as exc:
            if isinstance(exc.__cause__, sqlite3.IntegrityError):
                raise AlreadyExists(f"triage record {record.record_id} already exists") from exc
            raise
        return record.model_copy(deep=True)

    def get(self, record_id: str) -> TriageRecord | None:
        return _one(TriageRecord, self._db.read("SELECT data FROM triage_records WHERE record_id = ?", (record_id,)))

    def find_by_s3_object(self, bucket: str, key: str) -> TriageRecord | None:
        return _one(
            TriageRecord,
            self._db.read(
                "SELECT data FROM triage_records WHERE s3_object = ? ORDER BY record_id LIMIT 1",
                (_s3_ref(bucket, key),),
            ),
        )

    def list_for_customer(self, customer_id: str) -> list[TriageRecord]:
        return _load(
            TriageRecord,
            self._db.read(
                "SELECT data FROM triage_records WHERE customer_id = ? ORDER BY received_key DESC, record_id DESC",
                (customer_id,),
            ),
        )


class SqliteStore:
    """The Store protocol on one SQLite file (``:memory:`` works too, for throwaway use)."""

    def __init__(self, path: str | Path):
        self.path = path
        self._db = _Db(path)
        self.customers = SqliteCustomerRepo(self._db)
        self.cards = SqliteCardRepo(self._db)
        self.transactions = SqliteTransactionRepo(self._db)
        self.fraud = SqliteFraudDecisionRepo(self._db)
        self.cases = SqliteCaseRepo(self._db)
        self.handoffs = SqliteHandoffRepo(self._db)
        self.verifications = SqliteVerificationRepo(self._db)
        self.triage = SqliteTriageRepo(self._db)

    def create_schema(self) -> None:
        with self._db.lock:
            try:
                self._db.conn.executescript(_SCHEMA)
            except sqlite3.Error as exc:
                raise RepositoryError(f"sqlite: {exc}") from exc

    def reset(self) -> None:
        """Empty every table (demo reseeding); the schema stays."""
        with self._db.tx() as c:
            for table in _TABLES:
                c.execute(f"DELETE FROM {table}")

    def close(self) -> None:
        with self._db.lock:
            self._db.conn.close()
