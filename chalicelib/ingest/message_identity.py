"""Which stored record a mail is: the Message-ID says which mail it claims to be, its content
digest says whether it is.

Why both: a Message-ID is chosen by the sender, so a different email can reuse an earlier one (by
mistake, or to have a complaint acknowledged and dropped as a "duplicate"). The first mail with an
id keeps the id-only record id (``eml-`` + digest of the id); a later mail with the same id is a
duplicate only when its content digest is the same. Different content is stored as a new record
(id from the Message-ID AND the digest), flagged with ``message_id_collision_with`` and logged
with the stable code ``message_id_collision``. A record stored before digests existed has none and
so never absorbs a later mail: it is stored anew and flagged (never dropped).

The content digest covers what a sender writes (From, Subject, Date and the body), not what
transport adds (Received, DKIM, Return-Path, To of each delivery), so the same mail delivered to
two inboxes (two S3 objects) is still one record.
"""
from __future__ import annotations

import email.parser
import email.policy
import hashlib
import re
from typing import Any

MESSAGE_ID_COLLISION = "message_id_collision"
_SEPARATOR = re.compile(rb"\r?\n\r?\n")


def normalize_message_id(value: str) -> str:
    """A Message-ID holds no whitespace (RFC 5322 msg-id) and mail systems vary its case: both go."""
    return "".join(value.split()).lower()


def content_digest(raw: bytes) -> str:
    """SHA-256 over the sender-written headers and the body (line endings and trailing blanks normalised)."""
    parts = _SEPARATOR.split(raw, maxsplit=1)
    body = parts[1] if len(parts) > 1 else b""
    try:
        msg = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(parts[0] + b"\n\n")
        headers = [" ".join(str(msg.get(name) or "").split()) for name in ("From", "Subject", "Date")]
    except Exception:  # a header block too broken to parse is digested as bytes
        headers = [parts[0].decode("latin-1")]
    body = b"\n".join(line.rstrip() for line in body.replace(b"\r\n", b"\n").split(b"\n")).rstrip()
    h = hashlib.sha256()
    for part in headers:
        h.update(part.encode("utf-8", "surrogatepass") + b"\x1f")
    h.update(body)
    return h.hexdigest()


def resolve_message_record(triage_repo: Any, first_id: str, collision_id: str,
                           digest: str) -> tuple[str, str | None, Any]:
    """(record id to use, the earlier record this collides with or None, the stored record if this
    exact mail is already stored or None)."""
    first = triage_repo.get(first_id)
    if first is None:
        return first_id, None, None
    if first.content_digest == digest:
        return first_id, None, first
    return collision_id, first_id, triage_repo.get(collision_id)
