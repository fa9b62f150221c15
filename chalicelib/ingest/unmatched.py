"""The acknowledgement for a sender we cannot link to a customer, and when not to send one.

Why acknowledge at all: a real customer writing from an address we do not hold otherwise hears
nothing and writes again, or gives up. Why so little in it: the address is not verified (anyone can
put any From on a mail), so the reply says only that we received a message, that we could not link
it to an account, and how to reach us securely. It never quotes the subject, the body or anything
we hold: to a forger it reveals nothing, to a customer it is enough.

Why the refusals: an automatic reply to an automatic mail is how mail loops start (RFC 3834). We
never answer auto-submitted mail, bulk or list mail, bounces and delivery reports, no-reply and
daemon senders (chalicelib/ingest/mail_headers.py), our own addresses or domain, or a colleague's
forward (a domain of ours: the colleague needs no acknowledgement, and the original sender's address
comes from the forwarded text, unverified). A customer who forwards a merchant's mail wrote to us:
they are acknowledged like any sender.
Each refusal has a stable code the follow-up records. Our own acknowledgement carries
``Auto-Submitted: auto-replied`` so well-behaved robots do not answer it either.
"""
from __future__ import annotations

import re
from email.message import Message
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from chalicelib.ingest.mail_headers import AUTOMATED, automated_sender, parse_headers, sender_address
from chalicelib.outbox import Notice

__all__ = ["AUTO_REPLY_HEADERS", "REFUSALS", "parse_headers", "sender_address", "reply_refusal", "unmatched_notice",
           "redirect_notice", "product_words"]

AUTO_REPLY_HEADERS = (("Auto-Submitted", "auto-replied"), ("X-Auto-Response-Suppress", "All"))
_SUPPRESS = {"all", "autoreply", "oof", "dr", "ndr", "rn", "nrn"}

# Stable codes (recorded as FollowUp.ack_skipped; never renamed, only added).
REFUSALS = {
    **AUTOMATED,
    "auto_response_suppressed": "the sender asked for no automatic responses (X-Auto-Response-Suppress)",
    "own_address": "the sender is one of our own addresses or our domain",
    "no_sender": "no usable From address",
    "forwarded": "a colleague's forward (a domain of ours): the forwarding colleague needs no acknowledgement",
    "headers_unavailable": "the stored mail's headers were not handed to the follow-up",
    "not_a_complaint": "no complaint (spam, a newsletter, an out-of-office reply, a thank-you): never answered",
}


def reply_refusal(headers: Message, own_addresses: set[str] | frozenset[str], *, forwarded: bool = False) -> str | None:
    """Why this mail must not get an automatic acknowledgement (a code of REFUSALS), or None.
    ``forwarded``: a colleague forwarded it (the caller knows our colleagues' domains)."""
    robot = automated_sender(headers)
    if robot in ("auto_submitted", "bulk_precedence", "mailing_list"):
        return robot
    suppress = {p.strip().lower() for p in str(headers.get("X-Auto-Response-Suppress", "") or "").split(",")}
    if suppress & _SUPPRESS:
        return "auto_response_suppressed"
    if robot == "bounce":
        return robot
    address = sender_address(headers)
    if address is None:
        return "no_sender"
    if robot is not None:
        return robot
    domain = address.lower().rpartition("@")[2]
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


_PRODUCT_RX = re.compile(r"^[a-z][a-z_]{0,39}$")


def product_words(product: str | None) -> str:
    """The other product as words ("credit_reporting" → "credit reporting"): the triage's label,
    never the sender's text; anything that is not a plain label becomes "" (no product named)."""
    value = str(product or "")
    return value.replace("_", " ") if _PRODUCT_RX.match(value) else ""


def redirect_notice(record_id: str, to: str, *, product: str | None, team: str, customer_id: str = "",
                    name: str | None = None, ref: str | None = None) -> Notice:
    """The acknowledgement of a mail about another product: where it went (the team), what it seems
    to be about (our label), and, to a customer on file only, their name and the ticket reference.
    It quotes nothing of the mail. One per stored message, marked auto-replied."""
    env = _templates()
    values = {"product": product_words(product), "team": team, "name": name, "ref": ref if name else None}
    return Notice(
        message_id=f"ack-redirect-{record_id}", customer_id=customer_id, channel="email", to=to,
        subject="We have received your email",
        text=env.get_template("redirected.txt.j2").render(**values),
        html=env.get_template("redirected.html.j2").render(**values),
        headers=AUTO_REPLY_HEADERS,
    )
