"""The email consumer: an S3 event (SES stored a raw message) → triage → one stored record + one decision.

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

import logging
from datetime import datetime
from typing import Any, Callable, Iterable

from chalicelib.core.models import TriageRecord, TriageStatus, utcnow
from chalicelib.core.ids import derive_decision_id
from chalicelib.governance.decision_log import DecisionLogError
from chalicelib.ingest.events import (
    IngestError,
    PermanentIngestError,
    TransientIngestError,
    parse_s3_event,
)
from chalicelib.ingest.matching import match_customer, match_payment
from chalicelib.ingest.records import (
    IngestOutcome,
    ObjectOutcome,
    address_of,
    clean_triage,
    header_message_id,
    mask_address,
    record_id_for,
    result_dict,
    scrub_pans,
)
from chalicelib.ingest.mail_headers import automated_in
from chalicelib.ingest.routing import (ACTION, EMAIL_TOO_LARGE, TRIAGE_FAILED, queue_for, route, scope_of, status_for,
                                       unit_float)
from chalicelib.payments.search import SearchConfig
from chalicelib.storage.base import AlreadyExists, RepositoryError
from chalicelib.ingest.message_identity import MESSAGE_ID_COLLISION, content_digest, resolve_message_record
from chalicelib.ingest.raw_objects import read_object
from chalicelib.storage.idempotency import DuplicateInProgress, key_from

log = logging.getLogger(__name__)

HEADER_BYTES = 64 * 1024  # enough for any sane header block; read before deciding to fetch the rest

class EmailIngestService:
    """One S3-event SQS record in, at most one triage record and one decision per mail out.

    ``triage_fn(raw, id=...)`` is nlp's tiered email triage in production and ``redact_fn(text)``
    nlp's redactor (attachment names; returns a str or an object with ``.text``): both are handed
    in by the entry point that builds the service, so chalicelib never imports nlp and tests can
    count calls. ``policy`` is the decision policy (default: the current one of the policy store);
    ``payment_search`` the one payment search's tolerance and window (default: its defaults).
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
        payment_search: SearchConfig | None = None,
        policy_store: Any = None,
        followup: Any = None,
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
        self.payment_search = payment_search or SearchConfig()
        self.followup = followup  # the case, ticket and acknowledgment (chalicelib/ingest/followup.py)

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
            if isinstance(exc, DecisionLogError) or exc.__class__.__module__.startswith("botocore"):
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
        if len(head) < total <= self.max_bytes:  # the digest needs the whole mail (triage reads it anyway)
            head = self._read(bucket, key, None)[0]
        digest = content_digest(head)
        # Two S3 objects holding the same mail: one worker triages, the other gets its result.
        try:
            outcome = self.idempotency.run(
                f"email_ingest:msg#{record_id}:{digest}", self._triage_and_store, record_id, message_id, bucket, key,
                head, total, digest, decode=ObjectOutcome.model_validate,
            )
        except DuplicateInProgress as exc:
            raise TransientIngestError("another worker is ingesting this message") from exc
        if (outcome.bucket, outcome.key) != (bucket, key):  # the stored result of the other object
            outcome = outcome.model_copy(update={"bucket": bucket, "key": key, "duplicate": True})
        return outcome

    def _triage_and_store(self, record_id: str, message_id: str | None, bucket: str, key: str,
                          head: bytes, total: int, digest: str | None = None) -> ObjectOutcome:
        collides_with = None
        if message_id is not None and digest is not None:
            record_id, collides_with, existing = resolve_message_record(
                self.store.triage, record_id, record_id_for(message_id, bucket, key, digest), digest)
        else:
            existing = self.store.triage.get(record_id)
        if existing is not None:
            return self._finish(existing, bucket, key, duplicate=True)
        if collides_with:
            log.warning("email_ingest: %s %s reuses the Message-ID of %s with different content",
                        MESSAGE_ID_COLLISION, record_id, collides_with)
        now = self.clock()
        # The raw header is the customer's text too (a card number has been seen in a Message-ID).
        base = dict(record_id=record_id, message_id=scrub_pans(message_id) if message_id else None, s3_bucket=bucket, s3_key=key, received_at=now,
                    size=total, decision_id=derive_decision_id("email", ACTION, record_id), content_digest=digest,
                    message_id_collision_with=collides_with, automated=automated_in(head))
        if total > self.max_bytes:
            log.warning("email_ingest: %s is %d bytes, over the %d cap", record_id, total, self.max_bytes)
            rec = TriageRecord(**base, status=TriageStatus.rejected_too_large, reasons=[EMAIL_TOO_LARGE])
            return self._store(rec, bucket, key)
        raw = head if len(head) >= total else self._read(bucket, key, None)[0]
        try:
            result = result_dict(self.triage_fn(raw, id=record_id))
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
        return read_object(self.s3, bucket, key, limit)

    # ---- from a triage result to a record -----------------------------------------------------

    def _triaged_record(self, base: dict[str, Any], result: dict[str, Any]) -> TriageRecord:
        meta = result.get("email") or {}
        sender = address_of(meta.get("from"))
        original = address_of(meta.get("original_from"))
        # The author is the customer when we know them (a customer forwarding a merchant's mail, or
        # replying with our own mail quoted); else the original sender of a colleague's forward.
        customer = match_customer(self.store, sender) or match_customer(self.store, original)
        txn_id, case_id = (match_payment(self.store, customer, result.get("entities") or {}, self.clock(), self.payment_search,
                                         str(result.get("category") or "")) if customer else (None, None))
        draft = TriageRecord(
            **base,
            sender=mask_address(sender),
            original_sender=mask_address(original),
            subject=scrub_pans(str(meta.get("subject") or "")),  # redacted by the triage pipeline
            triage=clean_triage(result, self.redact_fn),
            matched_customer_id=customer.customer_id if customer else None,
            matched_txn_id=txn_id,
            matched_case_id=case_id,
            status=TriageStatus.triaged,
        )
        request, reasons, outcome = route(draft, customer, self._policy_now, self.escalate_urgency)
        draft.reasons = reasons
        draft.status = status_for(reasons, outcome)
        draft.queue = queue_for(str(result.get("category") or "out_of_scope"), scope_of(draft),
                                skipped=draft.status is TriageStatus.skipped)
        return draft

    # ---- the decision -------------------------------------------------------------------------

    def _policy_now(self):
        if self._policy is not None:
            return self._policy
        if self._policy_store is None:
            from chalicelib.governance.policy import PolicyStore

            self._policy_store = PolicyStore.from_env()
        return self._policy_store.current()

    def _store(self, rec: TriageRecord, bucket: str, key: str) -> ObjectOutcome:
        try:
            stored = self.store.triage.create(rec)
            duplicate = False
        except AlreadyExists:
            stored = self.store.triage.get(rec.record_id)
            if stored is None:  # pragma: no cover - a create that conflicts must be readable
                raise TransientIngestError("triage record conflict but not readable yet") from None
            if rec.content_digest and stored.content_digest != rec.content_digest:
                # A different mail with this Message-ID won the race: retry so this one is resolved against it.
                raise TransientIngestError(f"{MESSAGE_ID_COLLISION}: lost a race to a different mail") from None
            duplicate = True
        return self._finish(stored, bucket, key, duplicate=duplicate)

    def _finish(self, rec: TriageRecord, bucket: str, key: str, duplicate: bool) -> ObjectOutcome:
        """Record the decision for a stored record (a no-op when it is already in the log)."""
        customer = self.store.customers.get(rec.matched_customer_id) if rec.matched_customer_id else None
        request, reasons, outcome = route(rec, customer, self._policy_now, self.escalate_urgency)
        decision_id = rec.decision_id or derive_decision_id("email", ACTION, rec.record_id)
        stored = self.decision_log.get(decision_id)
        if stored is None:
            t = rec.triage
            subject = {"triage_record_id": rec.record_id, "status": rec.status.value}
            for name, value in (("queue", rec.queue), ("txn_id", rec.matched_txn_id), ("case_id", rec.matched_case_id)):
                if value:
                    subject[name] = value
            scores = {k: unit_float(t.get(k)) for k in ("urgency", "intent_confidence", "category_confidence") if k in t}
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
        follow = (self.followup.run(rec, outcome, list(rec.reasons),
                                    lambda: self._read(rec.s3_bucket, rec.s3_key, HEADER_BYTES)[0])
                  if self.followup is not None else None)
        return ObjectOutcome(
            bucket=bucket, key=key, record_id=rec.record_id, status=rec.status, outcome=outcome,
            case_id=follow.case_id if follow else None, ticket_id=follow.ticket_id if follow else None,
            decision_id=decision_id, queue=rec.queue, matched_customer_id=rec.matched_customer_id,
            duplicate=duplicate or (rec.s3_bucket, rec.s3_key) != (bucket, key),
        )


def s3_client(settings: Any) -> Any:
    """S3 with its own read timeout: a raw message can be megabytes, slower than a table read."""
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=settings.dependency_timeout_s, read_timeout=settings.s3_read_timeout_s,
                    retries={"max_attempts": 3, "mode": "standard"})
    return boto3.client("s3", region_name=settings.region, config=config)


def build_email_ingest_service(settings: Any = None, *, triage_fn: Callable[..., Any],
                               redact_fn: Callable[[str], Any] | None, s3: Any = None, store: Any = None,
                               decision_log: Any = None, idempotency: Any = None, policy_store: Any = None,
                               clock: Callable[[], datetime] = utcnow, followup: Any = None) -> EmailIngestService:
    """The service for ``settings``; every dependency can be handed in (tests, the local CLI). The
    triage and redaction functions must be: they are nlp's, which chalicelib does not import."""
    if not callable(triage_fn):
        raise TypeError("build_email_ingest_service needs triage_fn, a callable (raw, id=...) -> triage result")
    if redact_fn is not None and not callable(redact_fn):
        raise TypeError("redact_fn must be a callable text -> redacted text, or None")
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
        triage_fn,
        decision_log or build_decision_log(settings),
        idempotency or IdempotencyGuard(build_idempotency_store(settings)),
        clock,
        redact_fn=redact_fn,
        max_bytes=settings.email_max_bytes,
        escalate_urgency=settings.email_escalate_urgency,
        allowed_buckets=[settings.raw_mail_bucket],
        payment_search=SearchConfig.from_settings(settings),
        policy_store=policy_store,
        followup=followup,
    )
