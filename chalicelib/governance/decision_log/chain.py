"""The chain itself: canonical JSON, the record hash, and verification of stored records.

Hash rule: ``hash = sha256(canonical_json(record without "hash"))`` where canonical JSON has sorted
keys, no whitespace, UTF-8, no NaN. Verification recomputes it from the stored JSON text itself,
so it does not depend on the record model: an export verifies with nothing but this module.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import IO, Any, Iterable, Iterator

GENESIS_HASH = "0" * 64
_HASH_FREE_FIELDS = {"hash"}


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def compute_hash(record: dict[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k not in _HASH_FREE_FIELDS}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()




@dataclass(frozen=True)
class StoredRecord:
    """A row as the backend holds it: the key columns and the stored JSON text."""

    seq: int
    decision_id: str
    hash: str
    doc: str
    # The indexed columns as stored (None for an export line, which holds only the doc). Verify
    # re-derives them from the hashed doc, so an edited index column is caught like an edited doc.
    at: str | None = None
    customer_ref: str | None = None
    has_columns: bool = False


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


def verify_records(records: Iterable[StoredRecord], expected_head: str | None = None,
                   anchored: tuple[int, str] | None = None) -> VerifyResult:
    """Walk the chain in order and stop at the first record that is not what the chain says.

    ``anchored`` is the (seq, hash) kept outside the store: the record at that seq must carry that
    hash and the chain must end exactly there (a cut tail or a re-chained rewrite fails here).
    """
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
        if rec.has_columns:
            problem = _column_problem(rec, body)
            if problem:
                return bad(problem)
        if anchored is not None and rec.seq == anchored[0] and recomputed != anchored[1]:
            return bad("hash differs from the anchored head hash (record rewritten and re-chained)")
        prev_hash = recomputed
        expected_seq += 1
        count += 1
    if expected_head is not None and expected_head != prev_hash:
        return VerifyResult(False, count, prev_hash, BadRecord(expected_seq - 1, "", "head differs from the anchored head hash"))
    if anchored is not None and count < anchored[0]:
        return VerifyResult(False, count, prev_hash, BadRecord(
            count + 1, "", f"chain ends at seq {count} but the anchor holds seq {anchored[0]} (tail removed)"))
    if anchored is not None and count > anchored[0]:
        return VerifyResult(False, count, prev_hash, BadRecord(
            anchored[0] + 1, "", f"{count - anchored[0]} records after the anchored seq {anchored[0]} are not anchored"))
    return VerifyResult(True, count, prev_hash)


def _column_problem(rec: StoredRecord, body: dict) -> str | None:
    """The stored index columns must be exactly what the hashed doc says."""
    from chalicelib.core.clock import sortable_utc

    try:
        at = sortable_utc(str(body.get("at")))
    except ValueError:
        return "record's time does not parse"
    if rec.at != at:
        return "stored 'at' column differs from the hashed record (index column altered)"
    if rec.customer_ref != body.get("customer_ref"):
        return "stored 'customer_ref' column differs from the hashed record (index column altered)"
    return None



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

