"""What the stream remembers besides the transactions: each transaction's order key and the quarantine.

Why a separate record: a :class:`~chalicelib.core.models.Transaction` says *what* state a payment is
in, not *which event* put it there, and without that a late authorisation would drag a posted
payment back to pending (last writer wins). The ledger keeps, per transaction, the order key
``(sequence, occurred_at)`` of the event that set its state; ``advance`` moves it forward only,
with a conditional write, so two workers cannot both win.

Quarantine: a poison record is kept (its error code, the Kinesis coordinates and a bounded,
PAN-free excerpt) for an operator to inspect and replay; it is never retried by the stream.

Backends: SQLite tables beside the store, and in DynamoDB items in the idempotency table
(``id = "cardtxn#..."`` / ``"quarantine#..."``, like the cost meter's spend buckets), so the
stream needs no table of its own.
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from chalicelib.core.clock import utcnow
from chalicelib.core.pci import scrub_pans
from chalicelib.storage.dynamo_table import DynamoTable
from chalicelib.storage.sqlite_conn import open_connection

EXCERPT_CHARS = 512
BUSY_TIMEOUT_S = 30.0  # stream workers in several processes advance order keys on one file


@dataclass(frozen=True)
class QuarantinedRecord:
    key: str  # shard/sequence number, or event id when there is no Kinesis coordinate
    code: str
    detail: str
    excerpt: str
    at: str


class EventLedger(Protocol):
    def create_schema(self) -> None: ...
    def order_key(self, txn_id: str) -> tuple[int, str] | None: ...
    def advance(self, txn_id: str, key: tuple[int, str]) -> bool:
        """Store ``key`` unless the stored one is newer; True when it did. Equal counts as newer: the
        same event retried after a failed write must still apply."""
        ...

    def quarantine(self, record: QuarantinedRecord) -> None: ...
    def quarantined(self) -> list[QuarantinedRecord]: ...
    def reset(self) -> None:
        """Forget every order key and quarantined record (demo reseeding)."""
        ...


def quarantine_record(key: str, code: str, detail: str, raw: bytes | str) -> QuarantinedRecord:
    text = raw.decode("utf-8", "replace") if isinstance(raw, (bytes, bytearray)) else str(raw)
    excerpt, _ = scrub_pans(text[:EXCERPT_CHARS])
    return QuarantinedRecord(key, code, detail, excerpt, utcnow().isoformat())


class SqliteEventLedger:
    def __init__(self, path: str | os.PathLike, *, conn: sqlite3.Connection | None = None):
        """``conn``: share a connection (the store's, in a batch transaction) instead of one per thread."""
        self.path = Path(path)
        self._local = threading.local()
        self._shared = conn

    def _conn(self) -> sqlite3.Connection:
        if self._shared is not None:
            return self._shared
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = open_connection(self.path, wal=True, busy_timeout_s=BUSY_TIMEOUT_S)
            self._local.conn = conn
        return conn

    def create_schema(self) -> None:
        c = self._conn()
        c.execute("CREATE TABLE IF NOT EXISTS fraud_txn_order (txn_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, at TEXT NOT NULL)")
        c.execute(
            "CREATE TABLE IF NOT EXISTS fraud_quarantine (key TEXT PRIMARY KEY, code TEXT NOT NULL, "
            "detail TEXT NOT NULL, excerpt TEXT NOT NULL, at TEXT NOT NULL)"
        )

    def order_key(self, txn_id):
        row = self._conn().execute("SELECT seq, at FROM fraud_txn_order WHERE txn_id=?", (txn_id,)).fetchone()
        return (row[0], row[1]) if row else None

    def advance(self, txn_id, key):
        cur = self._conn().execute(
            "INSERT INTO fraud_txn_order (txn_id, seq, at) VALUES (?, ?, ?) ON CONFLICT(txn_id) DO UPDATE "
            "SET seq=excluded.seq, at=excluded.at WHERE (excluded.seq, excluded.at) >= (fraud_txn_order.seq, fraud_txn_order.at)",
            (txn_id, key[0], key[1]),
        )
        return cur.rowcount == 1

    def quarantine(self, record):
        self._conn().execute(
            "INSERT OR IGNORE INTO fraud_quarantine (key, code, detail, excerpt, at) VALUES (?,?,?,?,?)",
            (record.key, record.code, record.detail, record.excerpt, record.at),
        )

    def quarantined(self):
        rows = self._conn().execute("SELECT key, code, detail, excerpt, at FROM fraud_quarantine ORDER BY at, key").fetchall()
        return [QuarantinedRecord(*r) for r in rows]

    def reset(self) -> None:
        c = self._conn()
        c.execute("DELETE FROM fraud_txn_order")
        c.execute("DELETE FROM fraud_quarantine")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


class DynamoEventLedger:
    """Items in a table keyed by ``id`` (the idempotency table)."""

    def __init__(self, client, table_name: str):
        self.client = client
        self.table = table_name

    def create_schema(self) -> None:
        from chalicelib.core.aws import create_table_if_missing

        create_table_if_missing(
            self.client, TableName=self.table,
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        )

    def order_key(self, txn_id):
        item = self.client.get_item(TableName=self.table, Key={"id": {"S": f"cardtxn#{txn_id}"}},
                                    ConsistentRead=True).get("Item")
        return (int(item["seq"]["N"]), item["at"]["S"]) if item else None

    def advance(self, txn_id, key):
        seq, at = key
        try:
            self.client.put_item(
                TableName=self.table,
                Item={"id": {"S": f"cardtxn#{txn_id}"}, "seq": {"N": str(seq)}, "at": {"S": at}},
                ConditionExpression="attribute_not_exists(id) OR seq < :s OR (seq = :s AND #a <= :a)",
                ExpressionAttributeNames={"#a": "at"},
                ExpressionAttributeValues={":s": {"N": str(seq)}, ":a": {"S": at}},
            )
            return True
        except self.client.exceptions.ConditionalCheckFailedException:
            return False

    def quarantine(self, record):
        item = {"id": {"S": f"quarantine#{record.key}"}, "payload": {"S": json.dumps(record.__dict__)}}
        self.client.put_item(TableName=self.table, Item=item)

    def reset(self):
        """Only this ledger's items: the table is the idempotency table."""
        DynamoTable(self.client, self.table).delete_all(
            ["id"], FilterExpression="begins_with(id, :t) OR begins_with(id, :q)",
            ExpressionAttributeValues={":t": {"S": "cardtxn#"}, ":q": {"S": "quarantine#"}})

    def quarantined(self):
        out, kwargs = [], {}
        while True:
            page = self.client.scan(TableName=self.table, FilterExpression="begins_with(id, :p)",
                                    ExpressionAttributeValues={":p": {"S": "quarantine#"}}, **kwargs)
            out += [QuarantinedRecord(**json.loads(i["payload"]["S"])) for i in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return sorted(out, key=lambda r: (r.at, r.key))
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def build_event_ledger(settings=None, *, dynamodb_client=None) -> EventLedger:
    from chalicelib.core.settings import get_settings

    settings = settings or get_settings()
    if settings.backend == "dynamodb":
        if dynamodb_client is None:
            from chalicelib.core.aws import client as aws_client

            dynamodb_client = aws_client("dynamodb", settings)
        return DynamoEventLedger(dynamodb_client, settings.tables.idempotency)
    ledger = SqliteEventLedger(settings.sqlite_path)
    ledger.create_schema()
    return ledger
