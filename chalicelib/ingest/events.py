"""What an SQS record says: S3 event notifications (direct or through SNS) for stored raw mail,
and the errors that tell SQS whether to retry.

Why apart from the service: the event's shape is AWS's contract, not our logic; the local CLI and
the tests build the same notifications with ``s3_event_body``. A record that is not an S3 event
(or names no object) is a *permanent* error: retrying cannot fix it.
"""
from __future__ import annotations

import json
from urllib.parse import quote_plus, unquote_plus

from pydantic import BaseModel

__all__ = ["IngestError", "PermanentIngestError", "TransientIngestError", "S3ObjectRef", "parse_s3_event",
           "s3_event_body"]


class IngestError(Exception):
    """An SQS record could not be ingested."""


class PermanentIngestError(IngestError):
    """The event itself is unusable (not JSON, not an S3 event, not our bucket): retrying cannot help."""


class TransientIngestError(IngestError):
    """A dependency failed or another worker holds the event: a redelivery should succeed."""


class S3ObjectRef(BaseModel):
    bucket: str
    key: str
    size: int | None = None
    event_name: str = ""



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
