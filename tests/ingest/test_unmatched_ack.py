"""A sender we cannot link to a customer hears that we received the mail, once, in words that quote
nothing of theirs and nothing of ours; robots, lists, bounces and our own addresses hear nothing."""
from __future__ import annotations

import email
import email.policy
import re

import pytest

from chalicelib.ingest.unmatched import REFUSALS, parse_headers, reply_refusal
from tests.ingest.test_email_followup import emails, mailroom  # noqa: F401  (the fixture)
from tests.ingest.test_email_ingest import mail, put_and_record

STRANGER = "jordan.lee@fastmail.example"
BODY = ("Hi, my name is Jordan Lee, I live at 14 Elm Street and my card ending 4417 was charged 212.40 USD by "
        "SkyHigh Travel on 3 October. I never booked it. My phone is 555-0142.")
SUBJECT = "SkyHigh Travel charge 212.40"


def ingest(w, raw: bytes, key: str, sqs_id: str = "sqs-1"):
    return w.service.handle_sqs_record(put_and_record(w, key, raw, sqs_id)).objects[0]


def followup_of(w, out):
    """The stored follow-up (a replay of run() reads it back from the idempotency guard)."""
    rec = w.store.triage.get(out.record_id)
    return w.service.followup.run(rec, out.outcome, list(rec.reasons))


class Counting:
    """A notifier that counts what it is asked to send (the outbox file alone would hide a resend)."""

    def __init__(self, inner):
        self.inner, self.sent = inner, []

    def send(self, notice):
        self.sent.append(notice.message_id)
        return self.inner.send(notice)


def test_an_unknown_sender_gets_one_plain_acknowledgement_that_quotes_nothing(mailroom):  # noqa: F811
    """Given a mail from an address that matches no customer, naming a merchant, an amount, a card's
    last 4, an address and a phone number / When it is ingested and SQS delivers it twice more
    Then exactly one acknowledgement is sent to the sender, text and HTML, marked auto-replied; it
    says we received it, could not link it to an account and how to reach us securely, and carries
    none of their words or numbers, nor any reference of ours."""
    mailroom.service.followup.notifier = counting = Counting(mailroom.service.followup.notifier)
    raw = mail(sender=STRANGER, subject=SUBJECT, body=BODY, message_id="<stranger-1@fastmail.example>")
    out = ingest(mailroom, raw, "inbound/stranger-1")
    for n in (2, 3):
        ingest(mailroom, raw, "inbound/stranger-1", f"sqs-{n}")

    assert counting.sent == [f"ack-unmatched-{out.record_id}"]
    [ack] = emails(mailroom.outbox)
    assert ack["To"] == "j***@fastmail.example" and ack["Auto-Submitted"] == "auto-replied"
    assert ack["Subject"] == "We have received your email"
    text, html = ack.get_body(("plain",)).get_content(), ack.get_body(("html",)).get_content()
    for part in (text, html):
        assert "We have received it" in part and "could not link it to an account" in part
        assert "back of your card" in part and "never send your card number" in part
        for leaked in ("Jordan", "Elm", "4417", "212.40", "SkyHigh", "0142", "October", out.record_id):
            assert leaked not in part, leaked
        visible = re.sub(r"<[^>]+>", " ", part)
        assert not re.search(r"\d", visible), re.search(r".{0,30}\d.{0,30}", visible)
    assert followup_of(mailroom, out).ack_message_id == f"ack-unmatched-{out.record_id}"


ROBOTS = {
    "auto_submitted": ("Auto-Submitted: auto-replied", STRANGER),
    "bulk_precedence": ("Precedence: bulk", STRANGER),
    "mailing_list": ("List-Id: <travel-deals.lists.example>", STRANGER),
    "auto_response_suppressed": ("X-Auto-Response-Suppress: OOF, AutoReply", STRANGER),
    "bounce": ("Return-Path: <>", STRANGER),
    "mailer_daemon": ("X-Loop-Test: 1", "MAILER-DAEMON@mx.fastmail.example"),
    "no_reply_sender": ("X-Loop-Test: 1", "no-reply@skyhigh-travel.example"),
    "own_address": ("X-Loop-Test: 1", "disputes@dispute-assistant.example"),
}


@pytest.mark.parametrize("code", sorted(ROBOTS))
def test_robots_lists_bounces_and_our_own_mail_get_no_acknowledgement(mailroom, code):  # noqa: F811
    """Given a mail from an unknown sender that an auto-responder, a list, a bounce, a mail daemon, a
    no-reply address or our own system sent / When it is ingested / Then no email goes out and the
    follow-up records why (a stable code)."""
    header, sender = ROBOTS[code]
    raw = (header + "\r\n").encode() + mail(sender=sender, subject=SUBJECT, body=BODY, message_id=f"<{code}@x.example>")
    out = ingest(mailroom, raw, f"inbound/{code}")

    assert list(mailroom.outbox.glob("*.eml")) == []
    follow = followup_of(mailroom, out)
    assert follow.ack_message_id is None and follow.ack_skipped == code and code in REFUSALS


@pytest.mark.parametrize("headers, expected", [
    ("From: A <a@x.example>\nAuto-Submitted: no\n", None),
    ("From: A <a@x.example>\nAuto-Submitted: auto-generated\n", "auto_submitted"),
    ("From: A <a@x.example>\nX-Autoreply: yes\n", "auto_submitted"),
    ("From: A <a@x.example>\nPrecedence: junk\n", "bulk_precedence"),
    ("From: A <a@x.example>\nList-Unsubscribe: <mailto:u@x.example>\n", "mailing_list"),
    ("From: A <a@x.example>\nContent-Type: multipart/report; report-type=delivery-status\n", "bounce"),
    ("From: postmaster@x.example\n", "mailer_daemon"),
    ("From: Shop <donotreply@shop.example>\n", "no_reply_sender"),
    ("From: alerts@dispute-assistant.example\n", "own_address"),
    ("Subject: no sender\n", "no_sender"),
    ("From: a@x.example, b@y.example\n", "no_sender"),
])
def test_reply_refusal_reads_the_loop_headers(headers, expected):
    """Given a header block / When we ask whether to acknowledge / Then the stable code (None: send)."""
    assert reply_refusal(parse_headers(headers.encode()), {"disputes@dispute-assistant.example"}) == expected


def test_a_forwarded_mail_from_a_colleague_is_not_acknowledged():
    """Given a forward (the original sender comes from the forwarded text, unverified) / Then no
    acknowledgement: the colleague needs none and the original address is not ours to trust."""
    headers = parse_headers(b"From: Sam Agent <sam@branch.example>\n")
    assert reply_refusal(headers, set(), forwarded=True) == "forwarded"
