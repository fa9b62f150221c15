"""Append-only, hash-chained log of every automated or human decision.

Why a chain: an auditor must be able to trust that nobody rewrote or removed a decision after the
fact. Each record stores the SHA-256 of the previous one, and its own hash covers every field, so
editing, deleting or reordering any stored record breaks verification at that record
(``python -m chalicelib.governance.audit verify``). Publishing the head hash elsewhere (S3 export with object
lock, a ticket, an email to compliance) also catches a rewrite of the whole tail.

Why two tables: personal data must be erasable but the chain must stay verifiable. The log never
holds a customer id: only ``customer_ref = HMAC(per-customer key, customer_id)``. The keys live in a
separate vault; erasing a customer deletes their key (crypto-shredding), after which the ref in
the log can no longer be linked to anyone while every hash still verifies. Inputs are the
redacted policy facts; a guard refuses any string that looks like a card number.

Concurrency: the sequence number is the key. Two writers that read the same head both try to
write ``seq = head + 1`` with a conditional write; one wins, the other re-reads the head and
retries, so the chain can never fork.

Hash rule: ``hash = sha256(canonical_json(record without "hash"))`` where canonical JSON has sorted
keys, no whitespace, UTF-8, no NaN. Verification recomputes it from the stored JSON text itself,
so it does not depend on this module's model definitions.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import random
import secrets
import sqlite3
import threading
import time
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator, Protocol

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.governance.policy import DecisionRequest, Policy, PolicyOutcome, reason_text

log = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
_HASH_FREE_FIELDS = {"hash"}
# Fields the PAN guard skips: they are generated hex/base32 digests, not caller text.
_GUARD_SKIP = {"hash", "prev_hash", "customer_ref", "policy_digest"}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class DecisionLogError(Exception):
    """The decision could not be recorded or read."""


class PiiRejected(DecisionLogError, ValueError):
    """A decision carried something that looks like raw personal data (a card number)."""


class ChainContention(DecisionLogError):
    """Could not append after many retries: too many concurrent writers on the chain head."""


# --------------------------------------------------------------------------------------------
# Canonical form and hashing
# --------------------------------------------------------------------------------------------


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def compute_hash(record: dict[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k not in _HASH_FREE_FIELDS}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------------------------
# PAN guard
# --------------------------------------------------------------------------------------------

from chalicelib.core.pci import find_sensitive  # noqa: E402  (the one card-number finder)


def contains_pan(text: str, standalone_only: bool = False) -> bool:
    """True when text holds anything the outbound guard would remove: a card number in any grouping,
    digits or separators (chalicelib.core.pci decides), a CVV, an SSN or an IBAN.

    ``standalone_only`` (used for identifier fields) ignores card-like digit runs glued to letters,
    as inside a hex digest ("dec-9f3a0412345678901234b"), which would otherwise trip the check about
    once in 400 ids.
    """
    spans = find_sensitive(text)
    if not standalone_only:
        return bool(spans)
    return any(not ((sp.start > 0 and text[sp.start - 1].isalpha()) or (sp.end < len(text) and text[sp.end].isalpha()))
               for sp in spans)


# Identifier fields: generated or derived ids (hex/base32 digests), checked for standalone numbers only.
_ID_FIELDS = ("decision_id", "related_to", "subject")


def guard_no_pan(value: Any, path: str = "") -> None:
    """Raise PiiRejected naming the field (never the value) if any string looks like a card number."""
    if isinstance(value, str):
        if contains_pan(value, standalone_only=path.split(".")[0] in _ID_FIELDS):
            raise PiiRejected(f"refusing to log a card-number-like value in field {path or '<root>'}")
    elif isinstance(value, dict):
        for k, v in value.items():
            if not path and k in _GUARD_SKIP:
                continue
            if isinstance(k, str) and contains_pan(k):
                raise PiiRejected(f"refusing to log a card-number-like key under {path or '<root>'}")
            guard_no_pan(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            guard_no_pan(v, f"{path}[{i}]")


# --------------------------------------------------------------------------------------------
# The record
# --------------------------------------------------------------------------------------------


def new_decision_id() -> str:
    # Base32 (letters and 2-7): never a long digit run, so ids cannot trip the PAN guard.
    return "dec_" + base64.b32encode(secrets.token_bytes(10)).decode("ascii").lower()


def derive_decision_id(*parts: str) -> str:
    """A deterministic id for "the decision about this thing" (retries find the earlier record)."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return "dec_" + base64.b32encode(digest[:15]).decode("ascii").lower()


class Decision(BaseModel):
    """One decision, as stored. ``outcome``/``reasons`` are what happened after controls;
    ``policy_outcome``/``policy_reasons`` are what the policy said (the part replay re-checks)."""

    model_config = ConfigDict(extra="forbid")

    decision_id: str = Field(default_factory=new_decision_id, min_length=1, max_length=128)
    seq: int = 0
    at: datetime = Field(default_factory=utcnow)
    actor: str = Field(min_length=1)  # "assistant", "agent:<id>", "system"
    channel: str = "chat"
    action: str
    capability: str | None = None
    customer_ref: str | None = None
    subject: dict[str, str] = Field(default_factory=dict)  # e.g. {"txn_id": ..., "case_id": ...}
    inputs: dict[str, Any] = Field(default_factory=dict)
    policy_version: str | None = None
    policy_digest: str | None = None
    policy_outcome: str | None = None
    policy_reasons: list[str] = Field(default_factory=list)
    models: dict[str, str] = Field(default_factory=dict)  # name -> version
    scores: dict[str, float] = Field(default_factory=dict)
    tier: str | None = None  # rules | local | comprehend | human
    mode: str | None = None  # control mode at decision time: on | off | shadow
    shadow: bool = False
    acted: bool = False
    outcome: str
    reasons: list[str] = Field(default_factory=list)
    explanation: str = ""
    cost_usd: float = 0.0
    related_to: str | None = None  # the decision this one follows up (e.g. an agent resolving an escalation)
    prev_hash: str = GENESIS_HASH
    hash: str = ""

    def to_record(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def request(self) -> DecisionRequest | None:
        """The recorded policy facts, or None for decisions that did not consult the policy."""
        return DecisionRequest.model_validate(self.inputs) if self.inputs else None


@dataclass(frozen=True)
class StoredRecord:
    """A row as the backend holds it: the key columns and the stored JSON text."""

    seq: int
    decision_id: str
    hash: str
    doc: str


@dataclass(frozen=True)
class BadRecord:
    seq: int
    decision_id: str
    problem: str


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    count: int
    head_hash: str
    first_bad: BadRecord | None = None


def verify_records(records: Iterable[StoredRecord], expected_head: str | None = None) -> VerifyResult:
    """Walk the chain in order and stop at the first record that is not what the chain says."""
    prev_hash = GENESIS_HASH
    expected_seq = 1
    count = 0
    for rec in records:
        def bad(problem: str) -> VerifyResult:
            return VerifyResult(False, count, prev_hash, BadRecord(rec.seq, rec.decision_id, problem))

        try:
            body = json.loads(rec.doc)
        except ValueError:
            return bad("stored record is not valid JSON")
        if not isinstance(body, dict):
            return bad("stored record is not a JSON object")
        if rec.seq != expected_seq:
            return bad(f"sequence gap or reorder: expected seq {expected_seq}, found {rec.seq}")
        if body.get("seq") != rec.seq:
            return bad(f"record says seq {body.get('seq')!r} but is stored at seq {rec.seq}")
        if body.get("decision_id") != rec.decision_id:
            return bad("record's decision_id differs from its key")
        if body.get("prev_hash") != prev_hash:
            return bad("prev_hash does not match the previous record's hash (record or predecessor altered)")
        recomputed = compute_hash(body)
        if body.get("hash") != recomputed or rec.hash != recomputed:
            return bad("content hash mismatch (record altered after it was written)")
        prev_hash = recomputed
        expected_seq += 1
        count += 1
    if expected_head is not None and expected_head != prev_hash:
        return VerifyResult(False, count, prev_hash, BadRecord(expected_seq - 1, "", "head differs from the anchored head hash"))
    return VerifyResult(True, count, prev_hash)


# --------------------------------------------------------------------------------------------
# Backends
# --------------------------------------------------------------------------------------------


class DecisionStore(Protocol):
    def create_schema(self) -> None: ...
    def head(self) -> tuple[int, str] | None:
        """(seq, hash) of the last record, read consistently; None for an empty log."""
        ...

    def try_append(self, seq: int, decision_id: str, at: str, customer_ref: str | None, hash: str, doc: str) -> bool:
        """Write the record iff ``seq`` is free; False when another writer took it.
        Raises DuplicateDecisionId if the decision id is already recorded."""
        ...

    def get(self, decision_id: str) -> StoredRecord | None: ...
    def records(self, since: datetime | None = None) -> Iterator[StoredRecord]:
        """In sequence order; ``since`` filters on the record's time (inclusive)."""
        ...

    def records_for_ref(self, customer_ref: str) -> list[StoredRecord]: ...


class PseudonymVault(Protocol):
    def create_schema(self) -> None: ...
    def get_key(self, customer_id: str) -> bytes | None: ...
    def create_key(self, customer_id: str, key: bytes) -> bytes:
        """Store key unless one exists; return the stored key (the winner's on a race)."""
        ...

    def delete_key(self, customer_id: str) -> bool: ...


class DuplicateDecisionId(DecisionLogError):
    pass


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
                f"SELECT seq, decision_id, hash, doc FROM {self.TABLE} WHERE decision_id = ?", (decision_id,)
            ).fetchone()
        return StoredRecord(*row) if row else None

    def records(self, since: datetime | None = None) -> Iterator[StoredRecord]:
        sql = f"SELECT seq, decision_id, hash, doc FROM {self.TABLE}"
        args: tuple = ()
        if since is not None:
            sql += " WHERE at >= ?"
            args = (_iso(since),)
        with closing(_connect(self.path)) as c:
            for row in c.execute(sql + " ORDER BY seq", args):
                yield StoredRecord(*row)

    def records_for_ref(self, customer_ref: str) -> list[StoredRecord]:
        with closing(_connect(self.path)) as c:
            rows = c.execute(
                f"SELECT seq, decision_id, hash, doc FROM {self.TABLE} WHERE customer_ref = ? ORDER BY seq",
                (customer_ref,),
            ).fetchall()
        return [StoredRecord(*r) for r in rows]


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
                (customer_id, key, _iso(utcnow())),
            )
            row = c.execute(f"SELECT key FROM {self.TABLE} WHERE customer_id = ?", (customer_id,)).fetchone()
        return bytes(row[0])

    def delete_key(self, customer_id: str) -> bool:
        with closing(_connect(self.path)) as c:
            cur = c.execute(f"DELETE FROM {self.TABLE} WHERE customer_id = ?", (customer_id,))
            return cur.rowcount > 0


class DynamoDecisionStore:
    """DynamoDB layout (table ``Settings.tables.decisions``, keys ``pk`` S / ``sk`` N):

    - chain records: ``pk="chain"``, ``sk=seq``, attributes decision_id, at, customer_ref, hash, doc;
    - id markers: ``pk="id#<decision_id>"``, ``sk=0``, attribute seq (enforces unique ids);
    - GSI ``by_ref``: ``customer_ref`` / ``sk`` (sparse: only chain records carry a ref).

    Each append is one TransactWriteItems of the record (condition: seq free) and its id marker
    (condition: id free), so neither a fork nor a duplicate id can be written. All records share
    one partition, which caps the log at roughly 500 appends/s: far above a support desk's rate.
    """

    CHAIN_PK = "chain"

    def __init__(self, client, table_name: str):
        self.client = client
        self.table = table_name

    def create_schema(self) -> None:
        from chalicelib.core.aws import create_table_if_missing

        create_table_if_missing(
            self.client,
            TableName=self.table,
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "N"},
                {"AttributeName": "customer_ref", "AttributeType": "S"},
            ],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "by_ref",
                    "KeySchema": [
                        {"AttributeName": "customer_ref", "KeyType": "HASH"},
                        {"AttributeName": "sk", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )

    def head(self) -> tuple[int, str] | None:
        resp = self.client.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": self.CHAIN_PK}},
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
        )
        items = resp.get("Items", [])
        if not items:
            return None
        return int(items[0]["sk"]["N"]), items[0]["hash"]["S"]

    def try_append(self, seq, decision_id, at, customer_ref, hash, doc) -> bool:
        item = {
            "pk": {"S": self.CHAIN_PK},
            "sk": {"N": str(seq)},
            "decision_id": {"S": decision_id},
            "at": {"S": at},
            "hash": {"S": hash},
            "doc": {"S": doc},
        }
        if customer_ref:
            item["customer_ref"] = {"S": customer_ref}
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": self.table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}},
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": {"pk": {"S": f"id#{decision_id}"}, "sk": {"N": "0"}, "seq": {"N": str(seq)}},
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
            return True
        except self.client.exceptions.TransactionCanceledException as exc:
            codes = [r.get("Code") for r in exc.response.get("CancellationReasons", [])] + [None, None]
            if codes[0] == "ConditionalCheckFailed" or "TransactionConflict" in codes:
                return False  # another writer took this seq (or is taking it): re-read the head
            if codes[1] == "ConditionalCheckFailed":
                raise DuplicateDecisionId(decision_id) from exc
            raise

    @staticmethod
    def _stored(item: dict) -> StoredRecord:
        return StoredRecord(int(item["sk"]["N"]), item["decision_id"]["S"], item["hash"]["S"], item["doc"]["S"])

    def get(self, decision_id: str) -> StoredRecord | None:
        marker = self.client.get_item(
            TableName=self.table, Key={"pk": {"S": f"id#{decision_id}"}, "sk": {"N": "0"}}, ConsistentRead=True
        ).get("Item")
        if not marker:
            return None
        item = self.client.get_item(
            TableName=self.table, Key={"pk": {"S": self.CHAIN_PK}, "sk": marker["seq"]}, ConsistentRead=True
        ).get("Item")
        return self._stored(item) if item else None

    def records(self, since: datetime | None = None) -> Iterator[StoredRecord]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": self.CHAIN_PK}},
            "ConsistentRead": True,
        }
        if since is not None:
            kwargs["FilterExpression"] = "#at >= :since"
            kwargs["ExpressionAttributeNames"] = {"#at": "at"}
            kwargs["ExpressionAttributeValues"][":since"] = {"S": _iso(since)}
        for page in self.client.get_paginator("query").paginate(**kwargs):
            for item in page.get("Items", []):
                yield self._stored(item)

    def records_for_ref(self, customer_ref: str) -> list[StoredRecord]:
        out: list[StoredRecord] = []
        for page in self.client.get_paginator("query").paginate(
            TableName=self.table,
            IndexName="by_ref",
            KeyConditionExpression="customer_ref = :r",
            ExpressionAttributeValues={":r": {"S": customer_ref}},
        ):
            out.extend(self._stored(i) for i in page.get("Items", []))
        return sorted(out, key=lambda r: r.seq)


class DynamoPseudonymVault:
    """Table (default ``da-pseudonym-keys``, env ``DA_TABLE_PSEUDONYM_KEYS``), key ``customer_id`` S.

    In AWS encrypt it with a customer-managed KMS key and keep point-in-time recovery short:
    a deleted key survives in backups until they expire, which bounds how fast erasure is final.
    """

    def __init__(self, client, table_name: str):
        self.client = client
        self.table = table_name

    def create_schema(self) -> None:
        from chalicelib.core.aws import create_table_if_missing

        create_table_if_missing(
            self.client,
            TableName=self.table,
            AttributeDefinitions=[{"AttributeName": "customer_id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "customer_id", "KeyType": "HASH"}],
        )

    def get_key(self, customer_id: str) -> bytes | None:
        item = self.client.get_item(
            TableName=self.table, Key={"customer_id": {"S": customer_id}}, ConsistentRead=True
        ).get("Item")
        return bytes(item["key"]["B"]) if item else None

    def create_key(self, customer_id: str, key: bytes) -> bytes:
        try:
            self.client.put_item(
                TableName=self.table,
                Item={"customer_id": {"S": customer_id}, "key": {"B": key}, "created_at": {"S": _iso(utcnow())}},
                ConditionExpression="attribute_not_exists(customer_id)",
            )
            return key
        except self.client.exceptions.ConditionalCheckFailedException:
            existing = self.get_key(customer_id)
            if existing is None:
                raise DecisionLogError("pseudonym key vanished during creation") from None
            return existing

    def delete_key(self, customer_id: str) -> bool:
        resp = self.client.delete_item(
            TableName=self.table, Key={"customer_id": {"S": customer_id}}, ReturnValues="ALL_OLD"
        )
        return bool(resp.get("Attributes"))


# --------------------------------------------------------------------------------------------
# Explanations
# --------------------------------------------------------------------------------------------

ACTION_TEXT = {
    "file_dispute": ("file your dispute", "filed your dispute"),
    "release_hold": ("release the hold on your payment", "released the hold on your payment"),
    "auto_reply_email": ("answer your email automatically", "answered your email"),
    "route_message": ("route your message", "routed your message"),
}


def compose_explanation(action: str, outcome: str, reasons: list[str]) -> str:
    """Customer-readable account of a decision: what, why, what next. No scores or thresholds."""
    todo, done = ACTION_TEXT.get(action, (f"handle your request ({action})", f"handled your request ({action})"))
    if outcome == "allow":
        what = f"We {done}."
    elif outcome == "escalate":
        what = f"We did not {todo} automatically: a member of our team will handle it."
    elif outcome == "deny":
        what = f"We could not {todo}."
    else:
        what = f"Outcome: {outcome}."
    texts = [reason_text(r) for r in reasons]
    why = " ".join(dict.fromkeys(t.customer for t in texts if t.customer))
    nxt = " ".join(dict.fromkeys(t.next_step for t in texts if t.next_step))
    parts = [what]
    if why and outcome != "allow":
        parts.append(why)
    if nxt:
        parts.append(f"Next: {nxt}")
    return " ".join(parts)


# --------------------------------------------------------------------------------------------
# The log
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionResult:
    """What a caller needs after ``decide``: whether to act, the outcome to follow, the record."""

    acted: bool
    outcome: str
    mode: str
    policy_outcome: PolicyOutcome
    decision: Decision


class DecisionLog:
    def __init__(
        self,
        store: DecisionStore,
        vault: PseudonymVault,
        clock: Callable[[], datetime] = utcnow,
        max_retries: int = 200,
        metrics=None,
    ):
        self.metrics = metrics  # a chalicelib.governance.metrics.GovernanceMetrics; None → the container's
        self.store = store
        self.vault = vault
        self.clock = clock
        self.max_retries = max_retries
        self._key_cache: dict[str, bytes] = {}
        self._key_lock = threading.Lock()

    def create_schema(self) -> None:
        self.store.create_schema()
        self.vault.create_schema()

    # ---- pseudonyms and erasure ------------------------------------------------------------

    def customer_ref(self, customer_id: str, create: bool = True) -> str | None:
        """The pseudonymous token for a customer; None if erased/unknown and create is False."""
        key = self.vault.get_key(customer_id)
        if key is None:
            if not create:
                return None
            key = self.vault.create_key(customer_id, secrets.token_bytes(32))
        return "cref_" + hmac.new(key, customer_id.encode("utf-8"), hashlib.sha256).hexdigest()[:32]

    def erase_customer(self, customer_id: str) -> bool:
        """Crypto-shred: delete the customer's pseudonym key; the log's refs become unlinkable."""
        return self.vault.delete_key(customer_id)

    # ---- writing -----------------------------------------------------------------------------

    def append(self, decision: Decision) -> Decision:
        """Chain and store a decision built by the caller (seq, prev_hash and hash are assigned).

        Retrying with the same decision_id returns the stored record: at-least-once callers
        cannot log a decision twice.
        """
        stored, created = self._append(decision)
        if created:
            try:
                if self.metrics is not None:  # the container's metrics (chatbot/bootstrap.py wires them)
                    self.metrics.decision(stored)
            except Exception:  # metrics must never cost a decision
                log.exception("metrics emission failed")
        return stored

    def _append(self, decision: Decision) -> tuple[Decision, bool]:
        draft = decision.to_record()
        guard_no_pan(draft)
        existing = self.store.get(decision.decision_id)
        if existing is not None:
            return Decision.model_validate_json(existing.doc), False
        for attempt in range(self.max_retries):
            head = self.store.head()
            seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
            draft["seq"], draft["prev_hash"] = seq, prev
            draft["hash"] = compute_hash(draft)
            doc = canonical_json(draft)
            try:
                if self.store.try_append(seq, draft["decision_id"], _iso(draft["at"]), draft.get("customer_ref"), draft["hash"], doc):
                    return Decision.model_validate(draft), True
            except DuplicateDecisionId:
                stored = self.store.get(decision.decision_id)
                if stored is not None:
                    return Decision.model_validate_json(stored.doc), False
                raise
            time.sleep(min(0.05, 0.001 * (attempt + 1)) * random.random())
        raise ChainContention(f"could not append after {self.max_retries} attempts")

    def record(
        self,
        *,
        action: str,
        outcome: str | None = None,
        actor: str = "assistant",
        channel: str | None = None,
        customer_id: str | None = None,
        request: DecisionRequest | None = None,
        policy_outcome: PolicyOutcome | None = None,
        policy: Policy | None = None,
        reasons: list[str] | None = None,
        explanation: str | None = None,
        models: dict[str, str] | None = None,
        scores: dict[str, float] | None = None,
        tier: str | None = None,
        capability: str | None = None,
        mode: str | None = None,
        shadow: bool = False,
        acted: bool | None = None,
        cost_usd: float = 0.0,
        related_to: str | None = None,
        subject: dict[str, str] | None = None,
        decision_id: str | None = None,
        at: datetime | None = None,
    ) -> Decision:
        """Record one decision. Outcome and reasons default to the policy's; explanation is composed."""
        if outcome is None:
            if policy_outcome is None:
                raise DecisionLogError("record() needs an outcome or a policy_outcome")
            outcome = policy_outcome.outcome
        if reasons is None:
            reasons = list(policy_outcome.reasons) if policy_outcome else []
        if policy is not None and policy_outcome is not None and policy.version != policy_outcome.policy_version:
            raise DecisionLogError("policy and policy_outcome disagree on the version")
        d = Decision(
            decision_id=decision_id or new_decision_id(),
            at=(at or self.clock()).astimezone(timezone.utc),
            actor=actor,
            channel=channel or (request.channel if request else "system"),
            action=action,
            capability=capability,
            customer_ref=self.customer_ref(customer_id) if customer_id else None,
            subject=subject or {},
            inputs=request.model_dump(mode="json") if request else {},
            policy_version=policy_outcome.policy_version if policy_outcome else (policy.version if policy else None),
            policy_digest=policy.digest if policy else None,
            policy_outcome=policy_outcome.outcome if policy_outcome else None,
            policy_reasons=list(policy_outcome.reasons) if policy_outcome else [],
            models=models or {},
            scores=scores or {},
            tier=tier,
            mode=mode,
            shadow=shadow,
            acted=(outcome != "escalate" and not shadow) if acted is None else acted,
            outcome=outcome,
            reasons=reasons,
            explanation=explanation if explanation is not None else compose_explanation(action, outcome, reasons),
            cost_usd=round(float(cost_usd), 10),
            related_to=related_to,
        )
        return self.append(d)

    def decide(
        self,
        request: DecisionRequest,
        *,
        customer_id: str | None,
        actor: str = "assistant",
        capability: str | None = None,
        controls=None,
        policy: Policy | None = None,
        **extra: Any,
    ) -> DecisionResult:
        """Evaluate, apply the kill switch / shadow mode, and record: the one call callers need.

        ``capability`` (e.g. "auto_file_dispute") names the control to apply; without it the
        policy outcome is followed as is. ``extra`` goes to :meth:`record` (models, scores, tier,
        cost_usd, subject, related_to, decision_id ...).
        """
        from chalicelib.governance.controls import apply_controls  # controls does not import this module
        from chalicelib.governance.policy import PolicyStore

        policy = policy or PolicyStore.from_env().current()
        policy_outcome = policy.evaluate(request)
        if capability is not None:
            ctl = apply_controls(capability, policy_outcome, controls=controls)
            acted, outcome, mode, shadow = ctl.acted, ctl.outcome, ctl.mode, ctl.mode == "shadow"
            reasons = list(ctl.reasons)
        else:
            outcome, mode, shadow = policy_outcome.outcome, "on", False
            acted = outcome != "escalate"
            reasons = list(policy_outcome.reasons)
        decision = self.record(
            action=request.action,
            outcome=outcome,
            actor=actor,
            customer_id=customer_id,
            request=request,
            policy_outcome=policy_outcome,
            policy=policy,
            reasons=reasons,
            capability=capability,
            mode=mode,
            shadow=shadow,
            acted=acted,
            **extra,
        )
        # On a duplicate id ``record`` hands back the decision stored first (a retry, or a racing
        # duplicate that lost). The caller must act on THAT verdict, not on the one just evaluated
        # (the facts or the policy may have changed since): the outcome acted on is the one in the log.
        stored_policy = policy_outcome
        if decision.policy_outcome is not None and decision.policy_version is not None:
            stored_policy = PolicyOutcome(outcome=decision.policy_outcome, reasons=list(decision.policy_reasons),
                                          policy_version=decision.policy_version)
        return DecisionResult(decision.acted, decision.outcome, decision.mode or mode, stored_policy, decision)

    # ---- reading -----------------------------------------------------------------------------

    def head(self) -> tuple[int, str] | None:
        return self.store.head()

    def get(self, decision_id: str) -> Decision | None:
        rec = self.store.get(decision_id)
        return Decision.model_validate_json(rec.doc) if rec else None

    def iter_decisions(self, since: datetime | None = None) -> Iterator[Decision]:
        for rec in self.store.records(since):
            yield Decision.model_validate_json(rec.doc)

    def list_for_customer(self, customer_id: str) -> list[Decision]:
        """A customer's decisions (subject access); empty once the customer is erased."""
        ref = self.customer_ref(customer_id, create=False)
        if ref is None:
            return []
        return [Decision.model_validate_json(r.doc) for r in self.store.records_for_ref(ref)]

    def verify(self, expected_head: str | None = None) -> VerifyResult:
        return verify_records(self.store.records(), expected_head)

    def export_jsonl(self, fp: IO[str], since: datetime | None = None) -> int:
        """Write stored records verbatim (canonical JSON, one a line) so the export verifies too."""
        n = 0
        for rec in self.store.records(since):
            fp.write(rec.doc + "\n")
            n += 1
        return n

    def export_to_s3(self, s3_client, bucket: str, key: str, since: datetime | None = None) -> int:
        import io

        buf = io.StringIO()
        n = self.export_jsonl(buf, since)
        s3_client.put_object(
            Bucket=bucket,
            Key=key,
            Body=buf.getvalue().encode("utf-8"),
            ContentType="application/x-ndjson",
            ServerSideEncryption="AES256",
        )
        return n


def read_jsonl(fp: IO[str]) -> Iterator[StoredRecord]:
    """Records of an export, for ``verify_records`` (e.g. ``audit verify --jsonl FILE``)."""
    for line in fp:
        line = line.rstrip("\n")
        if not line:
            continue
        try:
            body = json.loads(line)
            yield StoredRecord(int(body.get("seq", -1)), str(body.get("decision_id", "")), str(body.get("hash", "")), line)
        except (ValueError, TypeError):
            yield StoredRecord(-1, "", "", line)


# --------------------------------------------------------------------------------------------
# Factory
# --------------------------------------------------------------------------------------------


def pseudonym_table_name(settings=None) -> str:
    from chalicelib.core.settings import get_settings

    return (settings or get_settings()).tables.pseudonym_keys




def build_decision_log(settings=None, *, dynamodb_client=None, create_schema: bool = True) -> DecisionLog:
    """A decision log for the configured backend (sqlite path or DynamoDB tables)."""
    from chalicelib.core.settings import get_settings

    settings = settings or get_settings()
    if settings.backend == "dynamodb":
        if dynamodb_client is None:

            from chalicelib.core.aws import client as aws_client
            dynamodb_client = aws_client("dynamodb", settings)
        dl = DecisionLog(
            DynamoDecisionStore(dynamodb_client, settings.tables.decisions),
            DynamoPseudonymVault(dynamodb_client, pseudonym_table_name(settings)),
        )
        # In AWS the tables come from infrastructure code; creating them here is for local/moto.
        if create_schema and os.environ.get("DA_CREATE_TABLES", "").lower() in ("1", "true", "yes"):
            dl.create_schema()
        return dl
    dl = DecisionLog(SqliteDecisionStore(settings.sqlite_path), SqlitePseudonymVault(settings.sqlite_path))
    if create_schema:
        dl.create_schema()
    return dl



def _iso(dt: datetime | str) -> str:
    """Fixed-width UTC text (always microseconds) so that string order is time order in indexes."""
    if isinstance(dt, str):
        dt = datetime.fromisoformat(dt.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
