"""The stored face of an ingested mail: record ids, masked addresses, the scrubbed triage result,
and what one object or one SQS record came to.

Nothing unredacted is stored: addresses are masked to ``a***@domain``, keys that could carry raw
text are dropped, and every string passes the one outbound guard (chalicelib.core.pci).
"""
from __future__ import annotations

import base64
import email.parser
import email.policy
import hashlib
from typing import Any, Callable, Literal

from pydantic import BaseModel, Field

from chalicelib.core.models import TriageStatus
from chalicelib.core.pci import guard_text, guard_value
from chalicelib.ingest.message_identity import normalize_message_id

__all__ = ["ObjectOutcome", "IngestOutcome", "mask_address", "scrub_pans", "scrub", "record_id_for",
           "header_message_id", "address_of", "result_dict", "redact_name", "clean_triage", "RAW_TEXT_KEYS"]

# Keys of a triage result that could carry raw (unredacted) text; dropped before storage.
RAW_TEXT_KEYS = frozenset({"text", "raw", "body", "full_body", "forwarded_body", "original_text", "raw_text"})


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
    case_id: str | None = None  # the dispute case the mail opened or joined
    ticket_id: str | None = None  # the ticket a person works, when the mail needs one


class IngestOutcome(BaseModel):
    """What happened to one SQS record."""

    sqs_message_id: str | None = None
    action: Literal["processed", "ignored"]
    detail: str = ""
    objects: list[ObjectOutcome] = Field(default_factory=list)


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


def record_id_for(message_id: str | None, bucket: str, key: str, content_digest: str | None = None) -> str:
    """``eml-…`` from the Message-ID (whitespace and case normalised; with ``content_digest`` for a
    different mail that reuses an earlier id), else ``s3-…`` from the object: base32 digests, so an
    id can never look like a card number to the decision log's guard."""
    if message_id:
        if content_digest:
            return "eml-" + _b32("message-id", normalize_message_id(message_id), content_digest)
        return "eml-" + _b32("message-id", normalize_message_id(message_id))
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



def address_of(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("address")
    return str(value) if value else None



def result_dict(result: Any) -> dict[str, Any]:
    """A triage result (a pydantic model or a mapping) as a JSON-ready dict."""
    if hasattr(result, "model_dump"):
        return result.model_dump(mode="json", by_alias=True)
    return dict(result)


def redact_name(text: str, redact_fn: Callable[[str], Any] | None) -> str:
    """An attachment name through the injected redactor (a str or an object with ``.text``),
    then the card-number scrub; the scrub alone when no redactor was handed in."""
    if redact_fn is None:
        return scrub_pans(text)
    red = redact_fn(text)
    return scrub_pans(getattr(red, "text", red) if not isinstance(red, str) else red)


def clean_triage(result: dict[str, Any], redact_fn: Callable[[str], Any] | None) -> dict[str, Any]:
    """The triage result as stored: raw-text keys dropped, addresses masked, recipients dropped,
    attachment names redacted, every string scrubbed."""
    out = {k: v for k, v in result.items() if k not in RAW_TEXT_KEYS}
    meta = dict(out.get("email") or {})
    for k in RAW_TEXT_KEYS:
        meta.pop(k, None)
    meta["from"] = mask_address(address_of(meta.get("from")))
    meta["original_from"] = mask_address(address_of(meta.get("original_from")))
    meta.pop("to", None)
    atts = []
    for a in meta.get("attachments") or []:
        if isinstance(a, dict):
            name = a.get("filename")
            atts.append({"filename": redact_name(name, redact_fn) if name else None,
                         "content_type": a.get("content_type"), "size": a.get("size")})
    meta["attachments"] = atts
    out["email"] = meta
    return scrub(out)
