"""Email ingestion: an S3 event (SES stored a raw message) → parse → triage → match → one stored,
redacted TriageRecord and one ``route_message`` decision.

Why this shape: SES receipt rules can only *store* mail; S3 tells SQS; SQS gives retries and a
dead-letter queue (``@app.on_s3_event`` cannot be packaged to CloudFormation). Every hop delivers
at least once, so the service is idempotent twice over:

- per S3 object: an idempotency-guard key on bucket/key (SQS redelivery, concurrent duplicates);
- per message: ``record_id`` comes from the Message-ID (the same mail stored under two keys, e.g.
  delivered twice to the inbox), and the store's conditional create admits one record per id. The
  decision id is derived from the record id, so the decision log keeps one decision even when a
  retry runs after a crash between the two writes.

Failure policy (what reaches the dead-letter queue):

- *permanent* problems of the event itself (body not JSON, not an S3 event, a bucket we do not
  own, the object gone): logged at ERROR and acknowledged, because retrying cannot fix them, except
  with ``email_partial_batch_response`` on, where they are reported as batch item failures and so
  land in the DLQ after ``maxReceiveCount`` receives, with its alarm;
- *transient* problems (S3 or DynamoDB throttling and timeouts, another worker holding the same
  event): reported as batch item failures (partial batch response on) or re-raised after the rest
  of the batch is done (off), so SQS redelivers and the DLQ catches what never succeeds; records
  that did succeed are no-ops on redelivery;
- problems of the *mail* (too large, unparseable, the triage pipeline failing on it) are not
  errors of the event: they produce a ``rejected_too_large`` / ``failed_parse`` record escalated
  to a human, who reads the raw message in the encrypted bucket.

Nothing here logs or stores unredacted text: logs carry ids, statuses and exception class names;
addresses are masked to ``a***@domain``; the subject and body come redacted from the triage
pipeline and every stored string passes a card-number scrub.
"""
from __future__ import annotations

import argparse
import base64
import email.parser
import email.policy
import hashlib
import importlib
import io
import json
import logging
import re
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Iterable, Literal
from urllib.parse import quote_plus, unquote_plus

from pydantic import BaseModel, Field

from chalicelib.governance.decision_log import derive_decision_id
from chalicelib.core.pci import guard_text, guard_value
from chalicelib.storage.idempotency import DuplicateInProgress, key_from
from chalicelib.core.models import Customer, TriageRecord, TriageStatus, utcnow
from chalicelib.governance.policy import DecisionRequest
from chalicelib.storage.base import AlreadyExists, RepositoryError

log = logging.getLogger(__name__)

ACTION = "route_message"
HEADER_BYTES = 64 * 1024  # enough for any sane header block; read before deciding to fetch the rest

# Reason codes this service adds to the policy's (stable: stored in the decision log).
HIGH_URGENCY = "high_urgency"
CLASSIFIER_UNSURE = "classifier_unsure"
MALFORMED_EMAIL = "malformed_email"
EMAIL_TOO_LARGE = "email_too_large"
TRIAGE_FAILED = "triage_failed"

# Work queue per triage category; anything unknown goes to general support.
QUEUES: dict[str, str] = {
    "unauthorised": "fraud",
    "lost_or_stolen": "fraud",
    "declined_or_held": "holds_and_declines",
    "pending_charge": "holds_and_declines",
    "duplicate_charge": "disputes",
    "incorrect_amount": "disputes",
    "not_received": "disputes",
    "not_as_described": "disputes",
    "refund_not_processed": "disputes",
    "cancelled_recurring": "disputes",
    "atm_cash_problem": "disputes",
    "out_of_scope": "general_support",
}
DEFAULT_QUEUE = "general_support"

# Keys of a triage result that could carry raw (unredacted) text; dropped before storage.
_RAW_TEXT_KEYS = frozenset({"text", "raw", "body", "full_body", "forwarded_body", "original_text", "raw_text"})
# S3 error codes that retrying cannot fix.
_PERMANENT_S3_CODES = frozenset({"NoSuchKey", "NoSuchBucket", "InvalidObjectState", "404", "NotFound"})

_CASE_ID_RE = re.compile(r"\bDSP-[A-Z0-9]{4,12}\b")
_DIGIT_RUN = re.compile(r"\d+(?:[ .\-]\d+)*")


class IngestError(Exception):
    """An SQS record could not be ingested."""


class PermanentIngestError(IngestError):
    """The event itself is unusable (not JSON, not an S3 event, not our bucket): retrying cannot help."""


class TransientIngestError(IngestError):
    """A dependency failed or another worker holds the event: a redelivery should succeed."""


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------


class ObjectOutcome(BaseModel):
    """What happened to one S3 object."""

    bucket: str
    key: str
    record_id: str
    status: TriageStatus
    outcome: str  # the decision: allow | escalate
    decision_id: str
    queue: str | None = None
    matched_customer_id: str | None = None
    duplicate: bool = False  # the record already existed (same mail, or the same object again)


class IngestOutcome(BaseModel):
    """What happened to one SQS record."""

    sqs_message_id: str | None = None
    action: Literal["processed", "ignored"]
    detail: str = ""
    objects: list[ObjectOutcome] = Field(default_factory=list)


class S3ObjectRef(BaseModel):
    bucket: str
    key: str
    size: int | None = None
    event_name: str = ""


# ---------------------------------------------------------------------------------------------
# Masking and scrubbing (chalicelib-local: no spaCy needed for these)
# ---------------------------------------------------------------------------------------------


def mask_address(address: str | None) -> str | None:
    """``alice@example.com`` → ``a***@example.com``: agents see which organisation wrote, the
    record does not hold who. Anything that is not an address becomes ``***``."""
    if not address:
        return None
    address = address.strip()
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        return "***"
    return f"{local[0]}***@{domain.lower()}"


def scrub_pans(text: str) -> str:
    """Mask every card number to its last 4 and drop CVV, SSN and IBAN (the one outbound guard,
    chalicelib.core.pci, decides what each is)."""
    return guard_text(text)


def scrub(value: Any) -> Any:
    """Every string (and key) of a record through the one outbound guard before it is stored."""
    return guard_value(value)


def _b32(*parts: str) -> str:
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).digest()
    return base64.b32encode(digest[:20]).decode("ascii").lower()


def record_id_for(message_id: str | None, bucket: str, key: str) -> str:
    """``eml-…`` from the Message-ID, else ``s3-…`` from the object: base32 digests, so an id can
    never look like a card number to the decision log's guard."""
    if message_id:
        return "eml-" + _b32("message-id", message_id)
    return "s3-" + _b32("s3", bucket, key)


def header_message_id(head: bytes) -> str | None:
    """The Message-ID from the header block (stdlib, headers only: no body decoding, no spaCy).
    None when absent or empty: the S3 object then identifies the mail."""
    try:
        msg = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(head)
        value = msg.get("Message-ID")
    except Exception:  # a header block too broken to read has no usable id
        return None
    if value is None:
        return None
    value = " ".join(str(value).split())
    return value or None


# ---------------------------------------------------------------------------------------------
# S3 event parsing
# ---------------------------------------------------------------------------------------------


def parse_s3_event(body: str) -> list[S3ObjectRef] | None:
    """The objects an SQS body announces; None for S3's ``s3:TestEvent``. Raises
    PermanentIngestError for anything that is not an S3 event notification (direct or SNS-wrapped)."""
    try:
        doc = json.loads(body)
    except (TypeError, ValueError) as exc:
        raise PermanentIngestError(f"SQS body is not JSON ({type(exc).__name__})") from None
    if isinstance(doc, dict) and doc.get("Type") == "Notification" and isinstance(doc.get("Message"), str):
        try:
            doc = json.loads(doc["Message"])  # S3 → SNS → SQS without raw message delivery
        except ValueError:
            raise PermanentIngestError("SNS notification whose Message is not JSON") from None
    if not isinstance(doc, dict):
        raise PermanentIngestError("SQS body is not a JSON object")
    if doc.get("Event") == "s3:TestEvent":
        return None
    records = doc.get("Records")
    if not isinstance(records, list) or not records:
        raise PermanentIngestError("SQS body is not an S3 event notification (no Records)")
    refs: list[S3ObjectRef] = []
    for rec in records:
        try:
            if rec.get("eventSource") != "aws:s3":
                raise PermanentIngestError(f"record from {str(rec.get('eventSource'))[:40]!r}, not aws:s3")
            s3 = rec["s3"]
            bucket = s3["bucket"]["name"]
            key = unquote_plus(s3["object"]["key"])
            size = s3["object"].get("size")
        except (KeyError, TypeError, AttributeError):
            raise PermanentIngestError("S3 event record without s3.bucket.name / s3.object.key") from None
        if not isinstance(bucket, str) or not isinstance(key, str) or not bucket or not key:
            raise PermanentIngestError("S3 event record with an empty bucket or key")
        refs.append(S3ObjectRef(bucket=bucket, key=key, size=size if isinstance(size, int) else None,
                                event_name=str(rec.get("eventName", ""))))
    return refs


def s3_event_body(bucket: str, key: str, size: int, *, sequencer: str = "0055AED6DCD90281E5",
                  event_time: str = "2026-11-01T12:00:00.000Z") -> str:
    """A genuine-shaped S3 ``ObjectCreated:Put`` notification (event version 2.1), as S3 puts it on
    SQS: for the local CLI and tests."""
    return json.dumps({"Records": [{
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": event_time,
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
        "requestParameters": {"sourceIPAddress": "203.0.113.10"},
        "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810",
                             "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "email-ingest",
            "bucket": {"name": bucket, "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                       "arn": f"arn:aws:s3:::{bucket}"},
            "object": {"key": quote_plus(key, safe="/"), "size": size,
                       "eTag": "d41d8cd98f00b204e9800998ecf8427e", "sequencer": sequencer},
        },
    }]})


# ---------------------------------------------------------------------------------------------
# The service
# ---------------------------------------------------------------------------------------------


def _result_dict(result: Any) -> dict[str, Any]:
    if hasattr(result, "model_dump"):
        return result.model_dump(mode="json", by_alias=True)
    return dict(result)


def _float(value: Any, default: float = 0.0) -> float:
    try:
        return min(1.0, max(0.0, float(value)))
    except (TypeError, ValueError):
        return default


def _client_error_code(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", "")) or None
    return None


class EmailIngestService:
    """One S3-event SQS record in, at most one triage record and one decision per mail out.

    ``triage_fn(raw, id=...)`` is ``nlp.triage.triage_email`` in production (injected so that
    chalicelib does not import nlp, and tests can count calls); ``redact_fn(text)`` redacts
    attachment names (returns a str or an object with ``.text``). ``policy`` is the decision
    policy (default: the current one of the policy store).
    """

    def __init__(
        self,
        store: Any,
        s3_client: Any,
        triage_fn: Callable[..., Any],
        decision_log: Any,
        idempotency: Any,
        clock: Callable[[], datetime] = utcnow,
        *,
        redact_fn: Callable[[str], Any] | None = None,
        max_bytes: int = 10 * 1024 * 1024,
        escalate_urgency: float = 0.7,
        allowed_buckets: Iterable[str] | None = None,
        policy: Any = None,
        policy_store: Any = None,
    ):
        self.store = store
        self.s3 = s3_client
        self.triage_fn = triage_fn
        self.decision_log = decision_log
        self.idempotency = idempotency
        self.clock = clock
        self.redact_fn = redact_fn
        self.max_bytes = max_bytes
        self.escalate_urgency = escalate_urgency
        self.allowed_buckets = frozenset(allowed_buckets) if allowed_buckets else None
        self._policy = policy
        self._policy_store = policy_store

    # ---- SQS ----------------------------------------------------------------------------------

    def handle_sqs_record(self, record: dict[str, Any]) -> IngestOutcome:
        """Raises PermanentIngestError / TransientIngestError; see the module docstring."""
        message_id = record.get("messageId") if isinstance(record, dict) else None
        body = record.get("body") if isinstance(record, dict) else None
        refs = parse_s3_event(body if isinstance(body, str) else "")
        if refs is None:
            log.info("email_ingest: s3:TestEvent acknowledged", extra={"sqs_message_id": message_id})
            return IngestOutcome(sqs_message_id=message_id, action="ignored", detail="s3:TestEvent")
        outcomes: list[ObjectOutcome] = []
        for ref in refs:
            if ref.event_name and not ref.event_name.startswith("ObjectCreated"):
                log.info("email_ingest: %s event ignored", ref.event_name[:40])
                continue
            if self.allowed_buckets is not None and ref.bucket not in self.allowed_buckets:
                raise PermanentIngestError("S3 event for a bucket this consumer does not read")
            outcomes.append(self.ingest_object(ref.bucket, ref.key))
        if not outcomes:
            return IngestOutcome(sqs_message_id=message_id, action="ignored", detail="no ObjectCreated records")
        return IngestOutcome(sqs_message_id=message_id, action="processed", objects=outcomes)

    def handle_batch(self, records: list[dict[str, Any]], partial_batch_response: bool = False) -> dict | None:
        """Every record is attempted. With ``partial_batch_response`` the failed ones are returned
        as ``{"batchItemFailures": [...]}`` (transient and permanent: the DLQ collects what never
        succeeds). Without it, permanent failures are logged and acknowledged and the first
        transient failure is re-raised once the whole batch has been tried."""
        failures: list[dict[str, str]] = []
        transient: TransientIngestError | None = None
        for record in records:
            sqs_id = str(record.get("messageId", "")) if isinstance(record, dict) else ""
            try:
                outcome = self.handle_sqs_record(record)
                log.info("email_ingest: %s %s", outcome.action,
                         [(o.record_id, o.status.value, o.outcome, o.duplicate) for o in outcome.objects],
                         extra={"sqs_message_id": sqs_id})
            except PermanentIngestError as exc:
                log.error("email_ingest: dropping unusable SQS message %s: %s", sqs_id, exc)
                if partial_batch_response:
                    failures.append({"itemIdentifier": sqs_id})
            except TransientIngestError as exc:
                log.warning("email_ingest: SQS message %s will be retried: %s", sqs_id, exc)
                failures.append({"itemIdentifier": sqs_id})
                transient = transient or exc
        if partial_batch_response:
            return {"batchItemFailures": failures}
        if transient is not None:
            raise transient
        return None

    # ---- one object ---------------------------------------------------------------------------

    def ingest_object(self, bucket: str, key: str) -> ObjectOutcome:
        guard_key = f"email_ingest:s3#{key_from('s3', bucket, key)}"
        try:
            return self.idempotency.run(guard_key, self._ingest_object, bucket, key,
                                        decode=ObjectOutcome.model_validate)
        except DuplicateInProgress as exc:
            raise TransientIngestError("another worker is ingesting this object") from exc
        except RepositoryError as exc:
            raise TransientIngestError(f"store unavailable ({type(exc).__name__})") from exc
        except IngestError:
            raise
        except Exception as exc:
            # Idempotency tables or the decision log failing (throttling, contention): retry.
            if exc.__class__.__module__.startswith(("botocore", "chalicelib.governance.decision_log")):
                raise TransientIngestError(f"{type(exc).__name__} while ingesting") from exc
            raise

    def _ingest_object(self, bucket: str, key: str) -> ObjectOutcome:
        existing = self.store.triage.find_by_s3_object(bucket, key)
        if existing is not None:
            return self._finish(existing, bucket, key, duplicate=True)
        head, total = self._read(bucket, key, HEADER_BYTES)
        message_id = header_message_id(head)
        record_id = record_id_for(message_id, bucket, key)
        if message_id is None:
            return self._triage_and_store(record_id, None, bucket, key, head, total)
        # Two S3 objects holding the same mail: one worker triages, the other gets its result.
        try:
            outcome = self.idempotency.run(
                f"email_ingest:msg#{record_id}", self._triage_and_store, record_id, message_id, bucket, key, head,
                total, decode=ObjectOutcome.model_validate,
            )
        except DuplicateInProgress as exc:
            raise TransientIngestError("another worker is ingesting this message") from exc
        if (outcome.bucket, outcome.key) != (bucket, key):  # the stored result of the other object
            outcome = outcome.model_copy(update={"bucket": bucket, "key": key, "duplicate": True})
        return outcome

    def _triage_and_store(self, record_id: str, message_id: str | None, bucket: str, key: str,
                          head: bytes, total: int) -> ObjectOutcome:
        existing = self.store.triage.get(record_id)
        if existing is not None:
            return self._finish(existing, bucket, key, duplicate=True)
        now = self.clock()
        # The raw header is the customer's text too (a card number has been seen in a Message-ID).
        base = dict(record_id=record_id, message_id=scrub_pans(message_id) if message_id else None, s3_bucket=bucket, s3_key=key, received_at=now,
                    size=total, decision_id=derive_decision_id("email", ACTION, record_id))
        if total > self.max_bytes:
            log.warning("email_ingest: %s is %d bytes, over the %d cap", record_id, total, self.max_bytes)
            rec = TriageRecord(**base, status=TriageStatus.rejected_too_large, reasons=[EMAIL_TOO_LARGE])
            return self._store(rec, bucket, key)
        raw = head if len(head) >= total else self._read(bucket, key, None)[0]
        try:
            result = _result_dict(self.triage_fn(raw, id=record_id))
        except Exception as exc:
            if type(exc).__name__ == "EmailTooLarge":
                rec = TriageRecord(**base, status=TriageStatus.rejected_too_large, reasons=[EMAIL_TOO_LARGE])
            else:
                # Class name only: an exception message may quote the mail.
                log.error("email_ingest: triage failed on %s (%s)", record_id, type(exc).__name__)
                rec = TriageRecord(**base, status=TriageStatus.failed_parse, reasons=[TRIAGE_FAILED])
            return self._store(rec, bucket, key)
        return self._store(self._triaged_record(base, result), bucket, key)

    def _read(self, bucket: str, key: str, limit: int | None) -> tuple[bytes, int]:
        """(bytes, total object size); ``limit`` reads only the first bytes (the header block)."""
        kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if limit is not None:
            kwargs["Range"] = f"bytes=0-{limit - 1}"
        try:
            resp = self.s3.get_object(**kwargs)
            data = resp["Body"].read()
        except Exception as exc:
            code = _client_error_code(exc)
            if code in _PERMANENT_S3_CODES:
                raise PermanentIngestError(f"S3 object not readable ({code})") from None
            if code == "InvalidRange":  # an empty object: nothing to range over
                return b"", 0
            raise TransientIngestError(f"S3 get_object failed ({code or type(exc).__name__})") from exc
        total = len(data)
        content_range = resp.get("ContentRange")
        if isinstance(content_range, str) and "/" in content_range:
            try:
                total = int(content_range.rsplit("/", 1)[1])
            except ValueError:
                total = len(data)
        elif limit is None and isinstance(resp.get("ContentLength"), int):
            total = max(total, resp["ContentLength"])
        return data, total

    # ---- from a triage result to a record -----------------------------------------------------

    def _clean_triage(self, result: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in result.items() if k not in _RAW_TEXT_KEYS}
        meta = dict(out.get("email") or {})
        for k in _RAW_TEXT_KEYS:
            meta.pop(k, None)
        meta["from"] = mask_address(_addr(meta.get("from")))
        meta["original_from"] = mask_address(_addr(meta.get("original_from")))
        meta.pop("to", None)
        atts = []
        for a in meta.get("attachments") or []:
            if isinstance(a, dict):
                name = a.get("filename")
                atts.append({"filename": self._redact(name) if name else None,
                             "content_type": a.get("content_type"), "size": a.get("size")})
        meta["attachments"] = atts
        out["email"] = meta
        return scrub(out)

    def _redact(self, text: str) -> str:
        if self.redact_fn is None:
            return scrub_pans(text)
        red = self.redact_fn(text)
        return scrub_pans(getattr(red, "text", red) if not isinstance(red, str) else red)

    def _triaged_record(self, base: dict[str, Any], result: dict[str, Any]) -> TriageRecord:
        meta = result.get("email") or {}
        sender = _addr(meta.get("from"))
        original = _addr(meta.get("original_from"))
        customer = self._match_customer(original or sender)
        txn_id, case_id = self._match_txn(customer, result.get("entities") or {}) if customer else (None, None)
        category = str(result.get("category") or "out_of_scope")
        draft = TriageRecord(
            **base,
            sender=mask_address(sender),
            original_sender=mask_address(original),
            subject=scrub_pans(str(meta.get("subject") or "")),  # redacted by the triage pipeline
            triage=self._clean_triage(result),
            matched_customer_id=customer.customer_id if customer else None,
            matched_txn_id=txn_id,
            matched_case_id=case_id,
            queue=QUEUES.get(category, DEFAULT_QUEUE),
            status=TriageStatus.triaged,
        )
        request, reasons, outcome = self._evaluate(draft, customer)
        draft.reasons = reasons
        draft.status = TriageStatus.escalated if outcome == "escalate" else TriageStatus.triaged
        return draft

    def _match_customer(self, address: str | None) -> Customer | None:
        if not address or "@" not in address:
            return None
        found = self.store.customers.find_by_email(address)
        return found[0] if len(found) == 1 else None

    def _match_txn(self, customer: Customer, entities: dict[str, Any]) -> tuple[str | None, str | None]:
        """A case id of this customer's wins (and names its transaction); else a transaction id the
        customer owns; else exactly one of their transactions with a mentioned amount and a matching
        merchant or date. Ambiguity links nothing: a wrong link is worse than none."""
        cid = customer.customer_id
        for case_id in entities.get("case_ids") or []:
            case = self.store.cases.get(cid, str(case_id).upper())
            if case is not None:
                return case.txn_id, case.case_id
        for txn_id in entities.get("transaction_ids") or entities.get("txn_ids") or []:
            txn = self.store.transactions.get(cid, str(txn_id))
            if txn is not None:
                case = self.store.cases.find_by_transaction(cid, txn.txn_id)
                return txn.txn_id, case.case_id if case else None
        amounts = [a for a in entities.get("amounts") or [] if isinstance(a, dict) and a.get("minor")]
        if not amounts:
            return None, None
        merchants = [str(m.get("name") if isinstance(m, dict) else m).lower() for m in entities.get("merchants") or []]
        spans = []
        for d in entities.get("dates") or []:
            try:
                spans.append((datetime.fromisoformat(d["date_from"]).date(), datetime.fromisoformat(d["date_to"]).date()))
            except (KeyError, TypeError, ValueError):
                continue
        since = self.clock() - timedelta(days=400)
        txns = self.store.transactions.list_for_customer(cid, since=since)
        hits = []
        for t in txns:
            if not any(abs(t.amount_minor) == a["minor"] and (a.get("currency") or t.currency) == t.currency
                       for a in amounts):
                continue
            merchant_ok = any(m and (m in t.merchant_name.lower() or t.merchant_name.lower() in m
                                     or m in t.descriptor.lower()) for m in merchants)
            day = t.occurred_at.date()
            date_ok = any(lo - timedelta(days=1) <= day <= hi + timedelta(days=1) for lo, hi in spans)
            if merchant_ok or date_ok:
                hits.append(t)
        if len(hits) != 1:
            return None, None
        case = self.store.cases.find_by_transaction(cid, hits[0].txn_id)
        return hits[0].txn_id, case.case_id if case else None

    # ---- the decision -------------------------------------------------------------------------

    def _policy_now(self):
        if self._policy is not None:
            return self._policy
        if self._policy_store is None:
            from chalicelib.governance.policy import PolicyStore

            self._policy_store = PolicyStore.from_env()
        return self._policy_store.current()

    def _evaluate(self, rec: TriageRecord, customer: Customer | None):
        """(request, reasons, outcome) for a record: a function of the stored record and the
        customer only, so a retry after a crash decides exactly what the first attempt would have."""
        t = rec.triage
        if rec.status in (TriageStatus.rejected_too_large, TriageStatus.failed_parse):
            request = DecisionRequest(action=ACTION, channel="email")
            return request, list(rec.reasons), "escalate"
        urgency_reasons = {str(r).lower() for r in t.get("urgency_reasons") or []}
        category = str(t.get("category") or "")[:64] or None
        language = str(t.get("language") or "")[:16] or None
        request = DecisionRequest(
            action=ACTION,
            channel="email",
            category=category,
            classifier_confidence=_float(t.get("category_confidence")),
            language=language,
            legal_threat=any("legal" in r for r in urgency_reasons),
            regulator_mention=any("regulator" in r or "ombudsman" in r for r in urgency_reasons),
            vulnerable=bool(customer and customer.vulnerable) or any("vulnerab" in r for r in urgency_reasons),
        )
        policy_outcome = self._policy_now().evaluate(request)
        extra = []
        if _float(t.get("urgency")) >= self.escalate_urgency:
            extra.append(HIGH_URGENCY)
        if t.get("intent") == "unsure" or t.get("category") in (None, "", "unsure"):
            extra.append(CLASSIFIER_UNSURE)
        if (t.get("email") or {}).get("malformed"):
            extra.append(MALFORMED_EMAIL)
        reasons = [r for r in policy_outcome.reasons if not (extra and r == "within_policy")] + extra
        outcome = "allow" if policy_outcome.outcome == "allow" and not extra else "escalate"
        return request, reasons, outcome

    def _store(self, rec: TriageRecord, bucket: str, key: str) -> ObjectOutcome:
        try:
            stored = self.store.triage.create(rec)
            duplicate = False
        except AlreadyExists:
            stored = self.store.triage.get(rec.record_id)
            if stored is None:  # pragma: no cover - a create that conflicts must be readable
                raise TransientIngestError("triage record conflict but not readable yet") from None
            duplicate = True
        return self._finish(stored, bucket, key, duplicate=duplicate)

    def _finish(self, rec: TriageRecord, bucket: str, key: str, duplicate: bool) -> ObjectOutcome:
        """Record the decision for a stored record (a no-op when it is already in the log)."""
        customer = self.store.customers.get(rec.matched_customer_id) if rec.matched_customer_id else None
        request, reasons, outcome = self._evaluate(rec, customer)
        decision_id = rec.decision_id or derive_decision_id("email", ACTION, rec.record_id)
        stored = self.decision_log.get(decision_id)
        if stored is None:
            t = rec.triage
            subject = {"triage_record_id": rec.record_id, "status": rec.status.value}
            for name, value in (("queue", rec.queue), ("txn_id", rec.matched_txn_id), ("case_id", rec.matched_case_id)):
                if value:
                    subject[name] = value
            scores = {k: _float(t.get(k)) for k in ("urgency", "intent_confidence", "category_confidence") if k in t}
            policy = self._policy_now() if rec.status not in (TriageStatus.rejected_too_large, TriageStatus.failed_parse) else None
            stored = self.decision_log.record(
                action=ACTION,
                outcome=outcome,
                channel="email",
                customer_id=rec.matched_customer_id,
                request=request,
                policy_outcome=policy.evaluate(request) if policy is not None else None,
                policy=policy,
                reasons=reasons,
                models={str(k): str(v) for k, v in (t.get("model_versions") or {}).items()},
                scores=scores,
                tier=str(t["tier_used"]) if t.get("tier_used") else None,
                cost_usd=float(t.get("cost_usd") or 0.0),
                subject=subject,
                decision_id=decision_id,
            )
        # The outcome reported is the one in the log: a redelivery after a policy change, or a
        # duplicate that lost the race to record, follows the decision recorded first.
        outcome = stored.outcome
        return ObjectOutcome(
            bucket=bucket, key=key, record_id=rec.record_id, status=rec.status, outcome=outcome,
            decision_id=decision_id, queue=rec.queue, matched_customer_id=rec.matched_customer_id,
            duplicate=duplicate or (rec.s3_bucket, rec.s3_key) != (bucket, key),
        )


def _addr(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("address")
    return str(value) if value else None


# ---------------------------------------------------------------------------------------------
# Wiring (one service per container) and the local "bucket"
# ---------------------------------------------------------------------------------------------


def load_callable(spec: str) -> Callable[..., Any]:
    """``"module:function"`` → the function (settings name the NLP functions; chalicelib does not
    import nlp itself)."""
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def s3_client(settings: Any) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=settings.dependency_timeout_s, read_timeout=settings.s3_read_timeout_s,
                    retries={"max_attempts": 3, "mode": "standard"})
    return boto3.client("s3", region_name=settings.region, config=config)


def build_email_ingest_service(settings: Any = None, *, s3: Any = None, store: Any = None, decision_log: Any = None,
                               idempotency: Any = None, triage_fn: Callable[..., Any] | None = None,
                               redact_fn: Callable[[str], Any] | None = None, policy_store: Any = None,
                               clock: Callable[[], datetime] = utcnow) -> EmailIngestService:
    """The service for ``settings``; every dependency can be handed in (tests, the local CLI)."""
    from chalicelib.governance.decision_log import build_decision_log
    from chalicelib.storage.idempotency import IdempotencyGuard, build_idempotency_store
    from chalicelib.storage import get_store
    from chalicelib.core.settings import get_settings

    from chalicelib.core import log_guard

    log_guard.install()  # the ingest container's log lines pass the PAN/PII guard
    settings = settings or get_settings()
    return EmailIngestService(
        store or get_store(settings),
        s3 if s3 is not None else s3_client(settings),
        triage_fn or load_callable(settings.email_triage_fn),
        decision_log or build_decision_log(settings),
        idempotency or IdempotencyGuard(build_idempotency_store(settings)),
        clock,
        redact_fn=redact_fn or load_callable(settings.email_redact_fn),
        max_bytes=settings.email_max_bytes,
        escalate_urgency=settings.email_escalate_urgency,
        allowed_buckets=[settings.raw_mail_bucket],
        policy_store=policy_store,
    )


class LocalBucket:
    """The two S3 calls the service makes, over local files: ``make run`` ingests the sample mail
    without AWS. Keys map to paths; a missing key raises botocore's NoSuchKey ClientError."""

    def __init__(self, name: str, files: dict[str, Path] | None = None):
        self.name = name
        self.files: dict[str, Path] = dict(files or {})

    def add(self, key: str, path: Path) -> None:
        self.files[key] = Path(path)

    def get_object(self, Bucket: str, Key: str, Range: str | None = None) -> dict[str, Any]:  # noqa: N803 - S3 names
        from botocore.exceptions import ClientError

        path = self.files.get(Key) if Bucket == self.name else None
        if path is None or not path.is_file():
            raise ClientError({"Error": {"Code": "NoSuchKey", "Message": "not found"}}, "GetObject")
        data = path.read_bytes()
        total = len(data)
        out: dict[str, Any] = {}
        if Range:
            lo, hi = (int(x) for x in Range.removeprefix("bytes=").split("-"))
            data = data[lo:hi + 1]
            out["ContentRange"] = f"bytes {lo}-{lo + len(data) - 1}/{total}"
        out.update(Body=io.BytesIO(data), ContentLength=len(data))
        return out


_HEADER_START_RE = re.compile(rb"^(?:From |[\x21-\x39\x3b-\x7e]+:)")


def mail_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files that start like a mail message, from files and directories (READMEs are skipped)."""
    out: list[Path] = []
    for p in map(Path, paths):
        candidates = sorted(c for c in p.rglob("*") if c.is_file()) if p.is_dir() else [p]
        for c in candidates:
            if c.name.startswith("."):
                continue
            with c.open("rb") as fh:
                if _HEADER_START_RE.match(fh.read(4096).lstrip(b"\r\n\t ")):
                    out.append(c)
    return out


def main(argv: list[str] | None = None, *,
         build_service: Callable[[Any, Any], EmailIngestService] = build_email_ingest_service) -> int:
    """``python -m chalicelib.email_ingest FILE.eml|DIR ...``: the SQS entry point's service on
    local files, against the configured store and decision log; one JSON line per message.
    ``build_service(settings, s3)`` is the composition root's (chatbot/bootstrap.py)."""
    parser = argparse.ArgumentParser(prog="python -m chalicelib.ingest.email_ingest", description=main.__doc__)
    parser.add_argument("paths", nargs="+", help="raw .eml files or directories of them")
    args = parser.parse_args(argv)
    from chalicelib.core import log_guard

    log_guard.install()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from chalicelib.core.settings import get_settings

    settings = get_settings()
    bucket = LocalBucket(settings.raw_mail_bucket)
    service = build_service(settings, bucket)
    failures = 0
    for i, path in enumerate(mail_files(args.paths)):
        key = f"inbound/{path.name}"
        bucket.add(key, path)
        record = {"messageId": f"local-{i}", "body": s3_event_body(bucket.name, key, path.stat().st_size)}
        try:
            outcome = service.handle_sqs_record(record)
        except IngestError as exc:
            failures += 1
            print(json.dumps({"file": path.name, "error": str(exc)}))
            continue
        for o in outcome.objects:
            print(json.dumps({"file": path.name, **o.model_dump(mode="json")}))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
