"""Idempotency for every entry point: a replayed or duplicated event has exactly one effect.

Why: S3 → SQS delivers at least once, SQS redelivers after a visibility timeout, Lex retries a
code hook that was slow, and two Lambda containers can receive the same event at the same time.
Without a guard each of those opens a second case, sends a second email or logs a second decision.

Model: a key (derived from what makes the event the same event: Message-ID, S3 key + sequencer,
Lex session + turn ...) maps to ``(status, result, expiry)``. The first caller claims the key with
a conditional write (status ``INPROGRESS``), runs the work, stores the result (``COMPLETED``).
Later callers get the stored result without running anything; a caller that arrives while the
work is in progress waits briefly for the result, then gives up with :class:`DuplicateInProgress`
(for SQS that means "retry later"; the redelivery will find the result). A claim whose worker died
is taken over after ``in_progress_ttl_s``. If the work raises, the claim is removed so that a
retry can run it again.

DynamoDB layout is the one aws-lambda-powertools' idempotency utility uses (table with partition
key ``id``; attributes ``status`` INPROGRESS|COMPLETED, ``expiration`` epoch seconds (enable the
table's TTL on it), ``in_progress_expiration`` epoch milliseconds, ``data`` the JSON result), so one
table can serve both this guard and Powertools' ``@idempotent`` handlers.
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol

from chalicelib.storage.dynamo_table import DynamoTable
from chalicelib.storage.sqlite_conn import open_connection

log = logging.getLogger(__name__)

IN_PROGRESS = "INPROGRESS"
BUSY_TIMEOUT_S = 30.0  # many worker processes claim keys on one file: a claim waits, never fails fast
COMPLETED = "COMPLETED"


class IdempotencyError(Exception):
    pass


class DuplicateInProgress(IdempotencyError):
    """Another worker is processing the same event right now; retry later to get its result."""

    def __init__(self, key: str):
        super().__init__(f"event {key!r} is being processed by another worker; retry later")
        self.key = key


@dataclass(frozen=True)
class IdempotencyRecord:
    key: str
    status: str  # INPROGRESS | COMPLETED
    expiration: int  # epoch seconds: after this the key is forgotten
    in_progress_expiration: int | None  # epoch ms: after this an INPROGRESS claim may be taken over
    data: str | None  # JSON result once COMPLETED

    @property
    def in_progress(self) -> bool:
        return self.status == IN_PROGRESS

    @property
    def completed(self) -> bool:
        return self.status == COMPLETED


class IdempotencyStore(Protocol):
    def create_schema(self) -> None: ...
    def claim(self, key: str, now_s: float, expiration: int, in_progress_expiration: int) -> IdempotencyRecord | None:
        """Claim the key unless a live record exists. None: claimed by us. Else: the live record."""
        ...

    def complete(self, key: str, data: str, expiration: int) -> None: ...
    def release(self, key: str) -> None: ...
    def get(self, key: str) -> IdempotencyRecord | None: ...
    def reset(self) -> None:
        """Forget every record (demo reseeding: what they remember was just deleted)."""
        ...


def _live(rec: IdempotencyRecord, now_s: float) -> bool:
    if rec.expiration <= now_s:
        return False
    if rec.in_progress and rec.in_progress_expiration is not None and rec.in_progress_expiration <= now_s * 1000:
        return False
    return True


class SqliteIdempotencyStore:
    TABLE = "governance_idempotency"

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def _connect(self) -> sqlite3.Connection:
        """A connection per operation (safe across threads and forked workers), with the settings
        every SQLite store on this file shares (chalicelib/storage/sqlite_conn.py)."""
        return open_connection(self.path, wal=True, busy_timeout_s=BUSY_TIMEOUT_S)

    def create_schema(self) -> None:
        with closing(self._connect()) as c:
            c.execute(
                f"""CREATE TABLE IF NOT EXISTS {self.TABLE} (
                    id TEXT PRIMARY KEY, status TEXT NOT NULL, expiration INTEGER NOT NULL,
                    in_progress_expiration INTEGER, data TEXT)"""
            )

    @staticmethod
    def _rec(row) -> IdempotencyRecord:
        return IdempotencyRecord(row[0], row[1], row[2], row[3], row[4])

    def claim(self, key, now_s, expiration, in_progress_expiration):
        with closing(self._connect()) as c:
            c.execute("BEGIN IMMEDIATE")
            try:
                row = c.execute(f"SELECT id, status, expiration, in_progress_expiration, data FROM {self.TABLE} WHERE id=?", (key,)).fetchone()
                if row is not None and _live(self._rec(row), now_s):
                    c.execute("COMMIT")
                    return self._rec(row)
                c.execute(
                    f"INSERT OR REPLACE INTO {self.TABLE} (id, status, expiration, in_progress_expiration, data) VALUES (?,?,?,?,NULL)",
                    (key, IN_PROGRESS, expiration, in_progress_expiration),
                )
                c.execute("COMMIT")
                return None
            except BaseException:
                c.execute("ROLLBACK")
                raise

    def complete(self, key, data, expiration):
        with closing(self._connect()) as c:
            c.execute(
                f"UPDATE {self.TABLE} SET status=?, data=?, expiration=?, in_progress_expiration=NULL WHERE id=?",
                (COMPLETED, data, expiration, key),
            )

    def release(self, key):
        with closing(self._connect()) as c:
            c.execute(f"DELETE FROM {self.TABLE} WHERE id=? AND status=?", (key, IN_PROGRESS))

    def get(self, key):
        with closing(self._connect()) as c:
            row = c.execute(f"SELECT id, status, expiration, in_progress_expiration, data FROM {self.TABLE} WHERE id=?", (key,)).fetchone()
        return self._rec(row) if row else None

    def reset(self):
        with closing(self._connect()) as c:
            c.execute(f"DELETE FROM {self.TABLE}")


class DynamoIdempotencyStore:
    """Table ``Settings.tables.idempotency`` with partition key ``id`` (Powertools-compatible)."""

    def __init__(self, client, table_name: str):
        self.client = client
        self.table = table_name

    def create_schema(self) -> None:
        from chalicelib.core.aws import create_table_if_missing

        create_table_if_missing(
            self.client,
            TableName=self.table,
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        )

    @staticmethod
    def _rec(item) -> IdempotencyRecord:
        ipe = item.get("in_progress_expiration")
        return IdempotencyRecord(
            item["id"]["S"], item["status"]["S"], int(item["expiration"]["N"]),
            int(ipe["N"]) if ipe else None, item["data"]["S"] if "data" in item else None,
        )

    def claim(self, key, now_s, expiration, in_progress_expiration):
        try:
            self.client.put_item(
                TableName=self.table,
                Item={
                    "id": {"S": key},
                    "status": {"S": IN_PROGRESS},
                    "expiration": {"N": str(expiration)},
                    "in_progress_expiration": {"N": str(in_progress_expiration)},
                },
                ConditionExpression=(
                    "attribute_not_exists(id) OR expiration <= :now "
                    "OR (#s = :inprogress AND in_progress_expiration <= :now_ms)"
                ),
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":now": {"N": str(int(now_s))},
                    ":now_ms": {"N": str(int(now_s * 1000))},
                    ":inprogress": {"S": IN_PROGRESS},
                },
            )
            return None
        except self.client.exceptions.ConditionalCheckFailedException:
            existing = self.get(key)
            if existing is None:  # expired and deleted in between: claim again
                return self.claim(key, now_s, expiration, in_progress_expiration)
            return existing

    def complete(self, key, data, expiration):
        self.client.update_item(
            TableName=self.table,
            Key={"id": {"S": key}},
            UpdateExpression="SET #s = :c, #d = :d, expiration = :e REMOVE in_progress_expiration",
            ExpressionAttributeNames={"#s": "status", "#d": "data"},
            ExpressionAttributeValues={":c": {"S": COMPLETED}, ":d": {"S": data}, ":e": {"N": str(expiration)}},
        )

    def release(self, key):
        try:
            self.client.delete_item(
                TableName=self.table,
                Key={"id": {"S": key}},
                ConditionExpression="#s = :p",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":p": {"S": IN_PROGRESS}},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return

    def get(self, key):
        item = self.client.get_item(TableName=self.table, Key={"id": {"S": key}}, ConsistentRead=True).get("Item")
        return self._rec(item) if item else None

    def reset(self):
        DynamoTable(self.client, self.table).delete_all(["id"])


def _json_encode(value: Any) -> str:
    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json")
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


class IdempotencyGuard:
    """Runs work at most once per key (within ``ttl_s``) and hands every duplicate the same result.

    The first caller also receives the *decoded stored* result, so the first call and its replays
    return equal values (dicts/lists by default; pass ``decode`` to rebuild a model).
    """

    def __init__(
        self,
        store: IdempotencyStore,
        *,
        ttl_s: int = 3600,
        in_progress_ttl_s: float = 60.0,
        wait_s: float = 3.0,
        poll_s: float = 0.05,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.store = store
        self.ttl_s = ttl_s
        self.in_progress_ttl_s = in_progress_ttl_s
        self.wait_s = wait_s
        self.poll_s = poll_s
        self.clock = clock
        self.sleep = sleep

    def run(
        self,
        key: str,
        fn: Callable[..., Any],
        *args: Any,
        encode: Callable[[Any], str] = _json_encode,
        decode: Callable[[Any], Any] = lambda v: v,
        **kwargs: Any,
    ) -> Any:
        if not key:
            raise IdempotencyError("empty idempotency key")
        now = self.clock()
        existing = self.store.claim(key, now, int(now + self.ttl_s), int((now + self.in_progress_ttl_s) * 1000))
        if existing is not None:
            return decode(self._await(key, existing))
        try:
            result = fn(*args, **kwargs)
        except BaseException:
            self.store.release(key)
            raise
        data = encode(result)
        self.store.complete(key, data, int(self.clock() + self.ttl_s))
        return decode(json.loads(data))

    def _await(self, key: str, rec: IdempotencyRecord) -> Any:
        deadline = self.clock() + self.wait_s
        while True:
            if rec is not None and rec.completed:
                return json.loads(rec.data) if rec.data is not None else None
            if self.clock() >= deadline:
                raise DuplicateInProgress(key)
            self.sleep(self.poll_s)
            rec = self.store.get(key)
            if rec is None:
                # The first worker failed and released the key: it is the caller's retry to make.
                raise DuplicateInProgress(key)


def key_from(*parts: Any) -> str:
    """A stable key from event parts (e.g. ("email", message_id) or ("s3", bucket, key, sequencer))."""
    raw = "\x1f".join(json.dumps(p, sort_keys=True, default=str) if not isinstance(p, str) else p for p in parts)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def idempotent(key_fn: Callable[..., Any], *, namespace: str | None = None,
               guard: IdempotencyGuard | Callable[[], IdempotencyGuard] | None = None,
               decode: Callable[[Any], Any] | None = None):
    """Decorator: ``key_fn`` receives the call's arguments and returns what identifies the event.

        @idempotent(lambda record: ("sqs", record.message_id), namespace="email_ingest")
        def ingest(record): ...
    """

    def deco(fn):
        ns = namespace or f"{fn.__module__}.{fn.__qualname__}"

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            g = guard() if callable(guard) and not isinstance(guard, IdempotencyGuard) else guard
            if g is None:
                raise TypeError(f"@idempotent({ns!r}) needs a guard: pass the container's IdempotencyGuard")
            ident = key_fn(*args, **kwargs)
            parts = ident if isinstance(ident, tuple) else (ident,)
            key = f"{ns}#{key_from(*parts)}"
            extra = {"decode": decode} if decode else {}
            return g.run(key, fn, *args, **extra, **kwargs)

        return wrapper

    return deco




def build_idempotency_store(settings=None, *, dynamodb_client=None) -> IdempotencyStore:
    from chalicelib.core.settings import get_settings

    settings = settings or get_settings()
    if settings.backend == "dynamodb":
        if dynamodb_client is None:

            from chalicelib.core.aws import client as aws_client
            dynamodb_client = aws_client("dynamodb", settings)
        return DynamoIdempotencyStore(dynamodb_client, settings.tables.idempotency)
    store = SqliteIdempotencyStore(settings.sqlite_path)
    store.create_schema()
    return store

