"""End to end across channels (issue 10): a customer chats about a charge through the emulator, then
her bank's support inbox forwards her email about the same charge: one case. Every SQS delivery of an
email that needs a person, also wrapped in SNS, three times in a row and eight times at once, makes one
ticket, one team notification and one acknowledgment."""
from __future__ import annotations

import email
import email.policy
import json
from datetime import timedelta

import pytest

from chalicelib.core.pci import find_pans
from tests.ingest.test_email_ingest import s3_event_body, sqs_record
from tests.support.races import race
from tests.world import World

BUCKET = "da-raw-mail"


def forwarded(body: str, message_id: str, subject: str = "Fwd: charge on my card") -> bytes:
    """The support inbox forwards the customer's own mail: the customer is the original sender."""
    lines = [f"Message-ID: <{message_id}@bank.example>", "From: Support Desk <support@bank.example>",
             "To: disputes@bank.example", f"Subject: {subject}", "Date: Thu, 19 Nov 2026 10:00:00 +0000",
             "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "",
             "Customer email below.", "", "---------- Forwarded message ---------",
             "From: Alice Example <alice@example.com>", "Date: Thu, 19 Nov 2026 09:40:00 +0000",
             f"Subject: {subject[5:]}", "To: support@bank.example", "", body, ""]
    return "\r\n".join(lines).encode()


class Counting:
    """A notifier or publisher that records each call before passing it on."""

    def __init__(self, inner, method: str, calls: list):
        self.inner, self.calls = inner, calls
        setattr(self, method, self._call(getattr(inner, method)))

    def _call(self, fn):
        def call(item):
            self.calls.append(getattr(item, "message_id", None) or getattr(item, "ticket_id", None))
            return fn(item)
        return call


@pytest.fixture
def channels(tmp_path, aws_env):
    """The demo World (chat through the emulator) and the email consumer built on the same store,
    decision log and ticket desk, as the composition root builds one container's services."""
    import boto3
    from moto import mock_aws

    from chalicelib.governance.policy import PolicyStore
    from chalicelib.outbox import LocalOutbox
    from chalicelib.ingest.followup import build_email_followup
    from chalicelib.ingest.service import build_email_ingest_service
    from chalicelib.storage.idempotency import IdempotencyGuard, SqliteIdempotencyStore
    from nlp.redact import redact
    from nlp.triage import triage_email

    with mock_aws():
        world = World(tmp_path)
        world.now = world.now + timedelta(days=1)  # the mail is read the day after the chat
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        idem = SqliteIdempotencyStore(tmp_path / "idem.db")
        idem.create_schema()
        guard = IdempotencyGuard(idem, wait_s=60.0)
        settings = world.settings.model_copy(update={"raw_mail_bucket": BUCKET})
        gov = world.services.governance
        desk = world.services.tickets
        # Count what is sent, not the files: the outbox rewrites one file per message id, so a second
        # send would hide there; SNS and SES would deliver it twice.
        world.sent = {"topic": [], "email": []}
        desk.publisher = Counting(desk.publisher, "publish", world.sent["topic"])
        followup = build_email_followup(settings, store=world.store, decision_log=gov.log, desk=desk,
                                        idempotency=guard, policy_store=PolicyStore.from_env(), clock=lambda: world.now,
                                        notifier=Counting(LocalOutbox(settings.outbox_dir), "send", world.sent["email"]))
        world.email = build_email_ingest_service(settings, s3=s3, store=world.store, decision_log=gov.log,
                                                 idempotency=guard, triage_fn=triage_email, redact_fn=redact,
                                                 clock=lambda: world.now, followup=followup)
        world.s3 = s3
        yield world


def deliver(world, key: str, raw: bytes, sqs_id: str = "sqs-1", via_sns: bool = False):
    world.s3.put_object(Bucket=BUCKET, Key=key, Body=raw)
    rec = sqs_record(key, len(raw), sqs_id, BUCKET)
    if via_sns:
        rec["body"] = json.dumps({"Type": "Notification", "MessageId": sqs_id, "TopicArn": "arn:aws:sns:us-east-1:1:mail",
                                  "Message": s3_event_body(BUCKET, key, len(raw))})
    return rec


def test_a_charge_raised_in_chat_and_then_by_forwarded_email_is_one_case(channels):
    """Given Alice files a dispute in chat about the $214.50 PayPal charge she does not recognise
    When the support inbox forwards her email about the same charge
    Then the email joins the chat's case: one case on that payment, and her acknowledgment names it."""
    chat = channels.emulator("demo-alice")
    for text in ("I don't recognise a charge from paypal", "skip", "yes"):
        chat.send(text)
    case = channels.store.cases.find_by_transaction("demo-alice", "txn-alice-unrec")
    assert case is not None and case.channel == "chat"

    raw = forwarded("I do not recognise the $214.50 payment to Xinghua88 via PayPal on my card. I never bought anything "
                    "from them, please take it back.", "fwd-1")
    out = channels.email.handle_sqs_record(deliver(channels, "inbound/fwd-1", raw)).objects[0]

    assert out.matched_customer_id == "demo-alice"
    assert out.case_id == case.case_id
    assert [c.case_id for c in channels.store.cases.list_for_customer("demo-alice") if c.txn_id == "txn-alice-unrec"] == [case.case_id]
    ack = email.message_from_bytes((channels.settings.outbox_dir / f"ack-{out.record_id}.eml").read_bytes(),
                                   policy=email.policy.default)
    # The decoded parts are scanned, not the raw file: a MIME boundary is 19 random digits that can
    # pass the Luhn check.
    parts = [ack["Subject"], ack.get_body(("plain",)).get_content(), ack.get_body(("html",)).get_content()]
    assert all(case.case_id in p for p in parts) and not any(find_pans(p) for p in parts)


LEGAL = ("I was charged $128.37 by Target twice. If this is not refunded this week I will take legal action and "
         "go to my solicitor.")


def ticket_files(world):
    outbox = world.settings.outbox_dir
    return sorted(p.name for p in outbox.glob("*.sns.json")), sorted(p.name for p in outbox.glob("ack-*.eml"))


@pytest.mark.parametrize("via_sns", [False, True])
def test_an_email_delivered_three_times_makes_one_ticket_and_one_notification(channels, via_sns):
    """Given an email that needs a person (a legal threat) / When SQS delivers its event three times
    (directly, or S3 → SNS → SQS) / Then one ticket, one team notification, one acknowledgment."""
    rec = deliver(channels, "inbound/legal", forwarded(LEGAL, "legal-1", "Fwd: Duplicate charge"), via_sns=via_sns)
    outs = [channels.email.handle_sqs_record(rec).objects[0] for _ in range(3)]

    assert len({o.ticket_id for o in outs}) == 1 and outs[0].ticket_id
    assert [t.ticket_id for t in channels.services.tickets.repo.list(None, None) if t.source_ref.startswith("HND-E")] == [outs[0].ticket_id]
    topics, acks = ticket_files(channels)
    assert topics == [f"{outs[0].ticket_id}.sns.json"] and len(acks) == 1
    assert channels.sent["topic"] == [outs[0].ticket_id] and len(channels.sent["email"]) == 1


def test_an_email_delivered_eight_times_at_once_makes_one_ticket_and_one_notification(channels):
    """Given an email that needs a person / When eight workers handle its SQS event at the same moment
    Then they all report the same ticket, and one ticket, one team notification and one
    acknowledgment exist."""
    rec = deliver(channels, "inbound/legal8", forwarded(LEGAL, "legal-8", "Fwd: Duplicate charge"), via_sns=True)

    result = race(8, lambda i: channels.email.handle_sqs_record({**rec, "messageId": f"sqs-{i}"}).objects[0])

    assert result.raised == []
    assert len({o.ticket_id for o in result.returned}) == 1
    assert len([t for t in channels.services.tickets.repo.list(None, None) if t.source_ref.startswith("HND-E")]) == 1
    topics, acks = ticket_files(channels)
    assert len(topics) == 1 and len(acks) == 1
    assert len(channels.sent["topic"]) == 1 and len(channels.sent["email"]) == 1
