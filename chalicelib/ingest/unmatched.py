"""The acknowledgement for a sender we cannot link to a customer, and when not to send one.

Why acknowledge at all: a real customer writing from an address we do not hold otherwise hears
nothing and writes again, or gives up. Why so little in it: the address is not verified (anyone can
put any From on a mail), so the reply says only that we received a message, that we could not link
it to an account, and how to reach us securely. It never quotes the subject, the body or anything
we hold: to a forger it reveals nothing, to a customer it is enough.

Why the refusals: an automatic reply to an automatic mail is how mail loops start (RFC 3834). We
never answer auto-submitted mail, bulk or list mail, bounces and delivery reports, no-reply and
daemon senders, our own addresses or domain, or a forward (the forwarding colleague needs no
acknowledgement, and the original sender's address comes from the forwarded text, unverified).
Each refusal has a stable code the follow-up records. Our own acknowledgement carries
``Auto-Submitted: auto-replied`` so well-behaved robots do not answer it either.
"""
from __future__ import annotations

import re
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from chalicelib.outbox import Notice

AUTO_REPLY_HEADERS = (("Auto-Submitted", "auto-replied"), ("X-Auto-Response-Suppress", "All"))
_BULK_PRECEDENCE = {"bulk", "junk", "list", "auto_reply", "auto-reply"}
_LIST_HEADERS = ("List-Id", "List-Unsubscribe", "List-Post", "List-Help", "List-Owner")
_AUTOREPLY_MARKERS = ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Auto-Reply")
_DAEMON_RX = re.compile(r"^(?:mailer-daemon|postmaster|mail-daemon|mailerdaemon)$", re.I)
_NOREPLY_RX = re.compile(r"^(?:no[-_.]?reply|do[-_.]?not[-_.]?reply|dont[-_.]?reply|bounces?|notifications?|"
                         r"auto[-_.]?(?:reply|responder|mailer))(?:[-+_.].*)?$", re.I)
_SUPPRESS = {"all", "autoreply", "oof", "dr", "ndr", "rn", "nrn"}

# Stable codes (recorded as FollowUp.ack_skipped; never renamed, only added).
REFUSALS = {
    "auto_submitted": "Auto-Submitted says a robot sent it, or an auto-reply marker is set",
    "bulk_precedence": "Precedence: bulk, junk, list or auto_reply",
    "mailing_list": "a List-* header: mail from a mailing list",
    "auto_response_suppressed": "the sender asked for no automatic responses (X-Auto-Response-Suppress)",
    "bounce": "a bounce or delivery report (null Return-Path, multipart/report)",
    "mailer_daemon": "the sender is a mail system (MAILER-DAEMON, postmaster)",
    "no_reply_sender": "the sender cannot take replies (no-reply, do-not-reply, bounces, notifications)",
    "own_address": "the sender is one of our own addresses or our domain",
    "no_sender": "no usable From address",
    "forwarded": "a forwarded mail: the forwarding colleague needs no acknowledgement",
    "headers_unavailable": "the stored mail's headers were not handed to the follow-up",
}


def parse_headers(raw_head: bytes) -> Message:
    """The header block of a raw message (compat32: tolerant of the malformed headers junk mail has)."""
    return BytesHeaderParser(policy=compat32).parsebytes(raw_head, headersonly=True)


def sender_address(headers: Message) -> str | None:
    addrs = [a for _, a in getaddresses([str(v) for v in headers.get_all("From") or []]) if "@" in a]
    return addrs[0].strip() if len(addrs) == 1 else None


def reply_refusal(headers: Message, own_addresses: set[str] | frozenset[str], *, forwarded: bool = False) -> str | None:
    """Why this mail must not get an automatic acknowledgement (a code of REFUSALS), or None."""
    auto = str(headers.get("Auto-Submitted", "") or "").strip().lower()
    if (auto and auto != "no") or any(headers.get(h) is not None for h in _AUTOREPLY_MARKERS):
        return "auto_submitted"
    if str(headers.get("Precedence", "") or "").strip().lower() in _BULK_PRECEDENCE:
        return "bulk_precedence"
    if any(headers.get(h) is not None for h in _LIST_HEADERS):
        return "mailing_list"
    suppress = {p.strip().lower() for p in str(headers.get("X-Auto-Response-Suppress", "") or "").split(",")}
    if suppress & _SUPPRESS:
        return "auto_response_suppressed"
    return_path = headers.get("Return-Path")
    content_type = str(headers.get("Content-Type", "") or "").lower()
    if (return_path is not None and str(return_path).strip() in ("<>", "")) or content_type.startswith("multipart/report"):
        return "bounce"
    address = sender_address(headers)
    if address is None:
        return "no_sender"
    local, _, domain = address.lower().rpartition("@")
    if _DAEMON_RX.match(local):
        return "mailer_daemon"
    if _NOREPLY_RX.match(local):
        return "no_reply_sender"
    own = {a.lower() for a in own_addresses}
    if address.lower() in own or domain in {a.rpartition("@")[2] for a in own}:
        return "own_address"
    if forwarded:
        return "forwarded"
    return None


@lru_cache(maxsize=1)
def _templates() -> Environment:
    return Environment(loader=FileSystemLoader(Path(__file__).with_name("templates")),
                       autoescape=select_autoescape(["html.j2"]), keep_trailing_newline=True)


def unmatched_notice(record_id: str, to: str) -> Notice:
    """One acknowledgement per stored message (its id is the record's: a replay rewrites, never adds)."""
    env = _templates()
    return Notice(
        message_id=f"ack-unmatched-{record_id}", customer_id="", channel="email", to=to,
        subject="We have received your email",
        text=env.get_template("unmatched.txt.j2").render(),
        html=env.get_template("unmatched.html.j2").render(),
        headers=AUTO_REPLY_HEADERS,
    )
