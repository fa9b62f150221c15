"""The embedded SQLite store: the whole assistant runs on one machine with no AWS account.

Each aggregate is one table: the pydantic model as a JSON column (``data``) plus the key columns
its access patterns filter and sort on, mirroring the DynamoDB key design (docs/storage.md) so
the two backends behave the same under the contract suite.

One module per group of tables (``sqlite_accounts``, ``sqlite_cases``, ``sqlite_verifications``,
``sqlite_triage``), each with its own schema, on the shared connection of ``sqlite_conn``; this
module assembles them into the ``Store``.
"""
from __future__ import annotations

from pathlib import Path

from chalicelib.storage import sqlite_accounts, sqlite_cases, sqlite_triage, sqlite_verifications
from chalicelib.storage.sqlite_accounts import (
    SqliteCardRepo,
    SqliteCustomerRepo,
    SqliteFraudDecisionRepo,
    SqliteTransactionRepo,
)
from chalicelib.storage.sqlite_cases import SqliteCaseRepo, SqliteHandoffRepo
from chalicelib.storage.sqlite_conn import SqliteDb
from chalicelib.storage.sqlite_triage import SqliteTriageRepo
from chalicelib.storage.sqlite_verifications import SqliteVerificationRepo

__all__ = [
    "SqliteCardRepo",
    "SqliteCaseRepo",
    "SqliteCustomerRepo",
    "SqliteFraudDecisionRepo",
    "SqliteHandoffRepo",
    "SqliteStore",
    "SqliteTransactionRepo",
    "SqliteTriageRepo",
    "SqliteVerificationRepo",
]

_GROUPS = (sqlite_accounts, sqlite_cases, sqlite_verifications, sqlite_triage)
SCHEMA = "".join(group.SCHEMA for group in _GROUPS)
TABLES = tuple(table for group in _GROUPS for table in group.TABLES)


class SqliteStore:
    """The Store protocol on one SQLite file (``:memory:`` works too, for throwaway use)."""

    def __init__(self, path: str | Path):
        self.path = path
        self._db = SqliteDb(path)
        self.customers = SqliteCustomerRepo(self._db)
        self.cards = SqliteCardRepo(self._db)
        self.transactions = SqliteTransactionRepo(self._db)
        self.fraud = SqliteFraudDecisionRepo(self._db)
        self.cases = SqliteCaseRepo(self._db)
        self.handoffs = SqliteHandoffRepo(self._db)
        self.verifications = SqliteVerificationRepo(self._db)
        self.triage = SqliteTriageRepo(self._db)

    def create_schema(self) -> None:
        self._db.executescript(SCHEMA)

    def reset(self) -> None:
        """Empty every table (demo reseeding); the schema stays."""
        with self._db.tx() as c:
            for table in TABLES:
                c.execute(f"DELETE FROM {table}")

    def close(self) -> None:
        self._db.close()
