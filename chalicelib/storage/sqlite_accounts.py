"""Customers, cards, transactions and fraud decisions in SQLite: the account data a verified
customer may read, each table keyed by ``customer_id`` first so a read always names its owner."""
from __future__ import annotations

from datetime import datetime

from chalicelib.core.models import Card, Customer, FraudDecision, Transaction
from chalicelib.storage.common import time_key
from chalicelib.storage.sqlite_conn import SqliteDb, load_one, load_rows

SCHEMA = """
CREATE TABLE IF NOT EXISTS customers (
    customer_id TEXT PRIMARY KEY,
    data        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS customers_by_email ON customers (lower(trim(json_extract(data, '$.email'))));
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
"""
TABLES = ("customers", "cards", "transactions", "fraud_decisions")


class SqliteCustomerRepo:
    def __init__(self, db: SqliteDb):
        self._db = db

    def put(self, customer: Customer) -> None:
        with self._db.tx() as c:
            c.execute(
                "INSERT OR REPLACE INTO customers (customer_id, data) VALUES (?, ?)",
                (customer.customer_id, customer.model_dump_json()),
            )

    def get(self, customer_id: str) -> Customer | None:
        return load_one(Customer, self._db.read("SELECT data FROM customers WHERE customer_id = ?", (customer_id,)))

    def list_ids(self) -> list[str]:
        return [r[0] for r in self._db.read("SELECT customer_id FROM customers ORDER BY customer_id")]

    def delete(self, customer_id: str) -> None:
        with self._db.tx() as c:
            c.execute("DELETE FROM customers WHERE customer_id = ?", (customer_id,))

    def find_by_email(self, email: str) -> list[Customer]:
        return load_rows(
            Customer,
            self._db.read(
                "SELECT data FROM customers WHERE lower(trim(json_extract(data, '$.email'))) = ? ORDER BY customer_id",
                (email.strip().lower(),),
            ),
        )


class SqliteCardRepo:
    def __init__(self, db: SqliteDb):
        self._db = db

    def put(self, card: Card) -> None:
        with self._db.tx() as c:
            c.execute(
                "INSERT OR REPLACE INTO cards (customer_id, card_id, last4, data) VALUES (?, ?, ?, ?)",
                (card.customer_id, card.card_id, card.last4, card.model_dump_json()),
            )

    def list_for_customer(self, customer_id: str) -> list[Card]:
        return load_rows(Card, self._db.read("SELECT data FROM cards WHERE customer_id = ? ORDER BY card_id", (customer_id,)))

    def find_by_last4(self, last4: str) -> list[Card]:
        return load_rows(
            Card, self._db.read("SELECT data FROM cards WHERE last4 = ? ORDER BY customer_id, card_id", (last4,))
        )


class SqliteTransactionRepo:
    def __init__(self, db: SqliteDb):
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
        return load_one(
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
        return load_rows(Transaction, self._db.read(sql, tuple(params)))


class SqliteFraudDecisionRepo:
    def __init__(self, db: SqliteDb):
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
        return load_one(
            FraudDecision,
            self._db.read(
                "SELECT data FROM fraud_decisions WHERE customer_id = ? AND txn_id = ?"
                " ORDER BY created_key DESC, decision_id DESC LIMIT 1",
                (customer_id, txn_id),
            ),
        )

    def list_for_customer(self, customer_id: str) -> list[FraudDecision]:
        """Newest first."""
        return load_rows(
            FraudDecision,
            self._db.read(
                "SELECT data FROM fraud_decisions WHERE customer_id = ? ORDER BY created_key DESC, decision_id DESC",
                (customer_id,),
            ),
        )
