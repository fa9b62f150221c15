"""Email ingestion's public face: an S3 event (SES stored a raw message) → parse → triage → match →
one stored, redacted TriageRecord and one ``route_message`` decision.

The code lives in named modules of this room, each one job:

- ``events``: the SQS body as S3 announces it, and the permanent/transient errors;
- ``records``: record ids, masked addresses, the scrubbed triage result, outcomes;
- ``matching``: the sender's customer and the case or payment the mail is about (the one payment
  search, chalicelib.payments.search);
- ``routing``: the work queue and the allow/escalate decision;
- ``service``: ``EmailIngestService`` (idempotency, S3 reads, failure policy) and its wiring;
- ``mailfiles``: which files on disk are mail;
- ``cli``: the service on local files (``python -m chalicelib.email_ingest DIR``).

This module re-exports their public names so ``chalicelib.ingest.email_ingest`` keeps working for
the entry points and tests that import it.
"""
from __future__ import annotations

from chalicelib.ingest.cli import LocalBucket, main
from chalicelib.ingest.events import (
    IngestError,
    PermanentIngestError,
    S3ObjectRef,
    TransientIngestError,
    parse_s3_event,
    s3_event_body,
)
from chalicelib.ingest.mailfiles import looks_like_mail, mail_files
from chalicelib.ingest.records import (
    IngestOutcome,
    ObjectOutcome,
    header_message_id,
    mask_address,
    record_id_for,
    scrub,
    scrub_pans,
)
from chalicelib.ingest.routing import (
    ACTION,
    CLASSIFIER_UNSURE,
    DEFAULT_QUEUE,
    EMAIL_TOO_LARGE,
    HIGH_URGENCY,
    MALFORMED_EMAIL,
    QUEUES,
    TRIAGE_FAILED,
)
from chalicelib.ingest.service import (
    HEADER_BYTES,
    EmailIngestService,
    build_email_ingest_service,
    s3_client,
)

__all__ = [
    "ACTION", "CLASSIFIER_UNSURE", "DEFAULT_QUEUE", "EMAIL_TOO_LARGE", "HEADER_BYTES", "HIGH_URGENCY",
    "MALFORMED_EMAIL", "QUEUES", "TRIAGE_FAILED", "EmailIngestService", "IngestError", "IngestOutcome",
    "LocalBucket", "ObjectOutcome", "PermanentIngestError", "S3ObjectRef", "TransientIngestError",
    "build_email_ingest_service", "header_message_id", "looks_like_mail", "mail_files", "main",
    "mask_address", "parse_s3_event", "record_id_for", "s3_client", "s3_event_body", "scrub", "scrub_pans",
]
