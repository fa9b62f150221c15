"""What a mail's own header block says about who sent it: a person, or a machine or a list.

Why the headers and not the words: a newsletter, an out-of-office reply, a bounce or a read receipt
says so in its headers (RFC 3834 ``Auto-Submitted``, RFC 2369/2919 ``List-*``, ``Precedence``, a
``multipart/report`` body, a null ``Return-Path``, a MAILER-DAEMON or no-reply sender), whatever
language its text is in. Routing treats such mail as not a complaint (chalicelib/ingest/routing.py)
and the acknowledgement never answers it (chalicelib/ingest/unmatched.py): replying to a robot
starts a mail loop, replying to spam confirms the address.
"""
from __future__ import annotations

import re
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses

__all__ = ["AUTOMATED", "parse_headers", "sender_address", "automated_sender", "automated_in"]

_BULK_PRECEDENCE = {"bulk", "junk", "list", "auto_reply", "auto-reply"}
_LIST_HEADERS = ("List-Id", "List-Unsubscribe", "List-Post", "List-Help", "List-Owner")
_AUTOREPLY_MARKERS = ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Auto-Reply")
_DAEMON_RX = re.compile(r"^(?:mailer-daemon|postmaster|mail-daemon|mailerdaemon)$", re.I)
_NOREPLY_RX = re.compile(r"^(?:no[-_.]?reply|do[-_.]?not[-_.]?reply|dont[-_.]?reply|bounces?|notifications?|"
                         r"auto[-_.]?(?:reply|responder|mailer))(?:[-+_.].*)?$", re.I)

# Stable codes of machine or list mail (stored on the triage record; never renamed, only added).
AUTOMATED = {
    "auto_submitted": "Auto-Submitted says a robot sent it, or an auto-reply marker is set",
    "bulk_precedence": "Precedence: bulk, junk, list or auto_reply",
    "mailing_list": "a List-* header: mail from a mailing list",
    "bounce": "a bounce, delivery or read report (null Return-Path, multipart/report)",
    "mailer_daemon": "the sender is a mail system (MAILER-DAEMON, postmaster)",
    "no_reply_sender": "the sender cannot take replies (no-reply, do-not-reply, bounces, notifications)",
}


def parse_headers(raw_head: bytes) -> Message:
    """The header block of a raw message (compat32: tolerant of the malformed headers junk mail has)."""
    return BytesHeaderParser(policy=compat32).parsebytes(raw_head, headersonly=True)


def sender_address(headers: Message) -> str | None:
    addrs = [a for _, a in getaddresses([str(v) for v in headers.get_all("From") or []]) if "@" in a]
    return addrs[0].strip() if len(addrs) == 1 else None


def automated_sender(headers: Message) -> str | None:
    """The AUTOMATED code of a machine or list mail, in this order of evidence, or None (a person)."""
    auto = str(headers.get("Auto-Submitted", "") or "").strip().lower()
    if (auto and auto != "no") or any(headers.get(h) is not None for h in _AUTOREPLY_MARKERS):
        return "auto_submitted"
    if str(headers.get("Precedence", "") or "").strip().lower() in _BULK_PRECEDENCE:
        return "bulk_precedence"
    if any(headers.get(h) is not None for h in _LIST_HEADERS):
        return "mailing_list"
    return_path = headers.get("Return-Path")
    content_type = str(headers.get("Content-Type", "") or "").lower()
    if (return_path is not None and str(return_path).strip() in ("<>", "")) or content_type.startswith("multipart/report"):
        return "bounce"
    local = (sender_address(headers) or "").lower().rpartition("@")[0]
    if local and _DAEMON_RX.match(local):
        return "mailer_daemon"
    if local and _NOREPLY_RX.match(local):
        return "no_reply_sender"
    return None


def automated_in(raw: bytes) -> str | None:
    """``automated_sender`` of a raw message's header block; None when the block cannot be read
    (a broken header is no evidence of a robot: the mail then goes where its words say)."""
    try:
        return automated_sender(parse_headers(raw))
    except Exception:  # noqa: BLE001 - junk headers must not stop the mail
        return None
