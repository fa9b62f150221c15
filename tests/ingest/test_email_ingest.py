"""Email ingestion end to end: S3 (moto) → SQS record → service → store + decision log.

The guarantees under test are the ones the at-least-once chain SES → S3 → SQS → Lambda needs:
every sample mail becomes exactly one record and one decision, replays and concurrent duplicates
change nothing, broken events are refused without a crash, and no card number survives anywhere.
"""
from __future__ import annotations

import json
import logging

import pytest
from botocore.exceptions import ClientError

from chalicelib.governance.decision_log import contains_pan
from chalicelib.ingest.email_ingest import (
    PermanentIngestError,
    TransientIngestError,
    mail_files,
    mask_address,
    s3_event_body,
)
from chalicelib.core.models import TriageStatus
from tests.ingest.conftest import BUCKET, EMAILS
from tests.support.races import race

PAN = "4111 1111 1111 1111"
PAN_DIGITS = "4111111111111111"


def sqs_record(key: str, size: int = 100, message_id: str = "sqs-1", bucket: str = BUCKET) -> dict:
    return {
        "messageId": message_id,
        "receiptHandle": "rh-" + message_id,
        "body": s3_event_body(bucket, key, size),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "md5OfBody": "0",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:da-email",
        "awsRegion": "us-east-1",
    }


def mail(*, message_id: str | None = "<complaint-1@mail.example.com>", sender: str = "alice@example.com",
         subject: str = "Charge I do not recognise", body: str = "Hello, I was charged twice. Please help.") -> bytes:
    headers = [f"From: Alice Example <{sender}>", "To: disputes@bank.example", f"Subject: {subject}",
               "Date: Sat, 31 Oct 2026 10:00:00 +0000", "MIME-Version: 1.0",
               "Content-Type: text/plain; charset=utf-8"]
    if message_id:
        headers.insert(0, f"Message-ID: {message_id}")
    return ("\r\n".join(headers) + "\r\n\r\n" + body + "\r\n").encode("utf-8")


def put_and_record(world, key: str, raw: bytes, message_id: str = "sqs-1") -> dict:
    world.put(key, raw)
    return sqs_record(key, len(raw), message_id)


def all_records(world, outcomes) -> list:
    return [world.store.triage.get(o.record_id) for o in outcomes]


# ---------------------------------------------------------------------------------------------


def test_every_sample_email_becomes_one_record_and_one_decision(world):
    """Given every sample mail in the shared data set stored in the raw-mail bucket / When each S3
    notification is handled / Then none crashes, each yields one stored record and one decision."""
    files = mail_files([EMAILS])
    assert len(files) >= 15
    outcomes = []
    for i, path in enumerate(files):
        rec = put_and_record(world, f"inbound/{path.name}", path.read_bytes(), f"sqs-{i}")
        result = world.service.handle_sqs_record(rec)
        assert result.action == "processed"
        outcomes += result.objects
    ids = {o.record_id for o in outcomes}
    assert len(ids) == len(files)
    for rec in all_records(world, outcomes):
        assert rec is not None and rec.status in set(TriageStatus)
        assert rec.triage.get("redacted_text") is not None
    assert {d.decision_id for d in world.decisions()} == {o.decision_id for o in outcomes}


def test_three_redeliveries_are_one_record_and_one_decision(world):
    """Given one mail / When its SQS message is delivered three times / Then there is one record,
    one decision, and the pipeline ran once (replays are answered from the stored result)."""
    rec = put_and_record(world, "inbound/a", mail())
    outcomes = [world.service.handle_sqs_record(rec).objects[0] for _ in range(3)]
    assert len({o.record_id for o in outcomes}) == 1
    assert len(world.decisions()) == 1
    assert len(world.triage_calls) == 1


def test_eight_concurrent_duplicates_are_one_record_and_one_decision(world):
    """Given one mail whose SQS message reaches 8 consumers at the same moment / When they all run /
    Then all report the same record, one record and one decision exist, and triage ran once."""
    rec = put_and_record(world, "inbound/c", mail())
    outcome = race(8, lambda _: world.service.handle_sqs_record(rec).objects[0])
    assert outcome.raised == []
    results = outcome.returned
    assert len({r.record_id for r in results}) == 1 and len(results) == 8
    assert len(world.decisions()) == 1
    assert len(world.triage_calls) == 1


def test_same_message_id_under_two_keys_is_one_record(world):
    """Given the same mail delivered twice to the inbox (two S3 objects, one Message-ID) / When both
    notifications are handled / Then one record and one decision exist and the second is a duplicate."""
    first = world.service.handle_sqs_record(put_and_record(world, "inbound/one", mail(), "sqs-1")).objects[0]
    second = world.service.handle_sqs_record(put_and_record(world, "inbound/two", mail(), "sqs-2")).objects[0]
    assert first.record_id == second.record_id
    assert not first.duplicate and second.duplicate
    assert world.store.triage.get(first.record_id).s3_key == "inbound/one"
    assert len(world.decisions()) == 1


def test_mail_without_message_id_is_keyed_by_its_s3_object(sqlite_world):
    """Given two identical mails without a Message-ID under two keys / When both are handled / Then
    they are two records (nothing says they are the same mail), each keyed by its object."""
    w = sqlite_world
    a = w.service.handle_sqs_record(put_and_record(w, "inbound/x", mail(message_id=None), "s1")).objects[0]
    b = w.service.handle_sqs_record(put_and_record(w, "inbound/y", mail(message_id=None), "s2")).objects[0]
    assert a.record_id != b.record_id and a.record_id.startswith("s3-")
    assert w.store.triage.get(a.record_id).message_id is None


def test_s3_test_event_is_acknowledged_and_ignored(sqlite_world):
    """Given the s3:TestEvent S3 sends when the notification is created / When handled / Then it is
    ignored: no record, no decision, no error (so it does not loop into the DLQ)."""
    body = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2026-11-01T12:00:00.000Z",
                       "Bucket": BUCKET, "RequestId": "5582815E1AEA5ADF", "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3e"})
    out = sqlite_world.service.handle_sqs_record({"messageId": "t", "body": body})
    assert out.action == "ignored" and out.objects == []
    assert sqlite_world.decisions() == []


def test_sns_wrapped_notification_is_unwrapped(sqlite_world):
    """Given an S3 notification delivered through SNS (no raw message delivery) / When handled /
    Then the inner event is used and the mail is ingested."""
    w = sqlite_world
    raw = mail()
    w.put("inbound/sns", raw)
    body = json.dumps({"Type": "Notification", "MessageId": "x", "TopicArn": "arn:aws:sns:us-east-1:1:t",
                       "Message": s3_event_body(BUCKET, "inbound/sns", len(raw))})
    out = w.service.handle_sqs_record({"messageId": "s", "body": body})
    assert out.action == "processed" and len(out.objects) == 1


def test_url_encoded_key_is_decoded(sqlite_world):
    """Given an object key with a space and a plus sign (S3 URL-encodes keys in events) / When
    handled / Then the object is found under its real key."""
    w = sqlite_world
    raw = mail()
    w.put("inbound/a b+c.eml", raw)
    out = w.service.handle_sqs_record({"messageId": "s", "body": s3_event_body(BUCKET, "inbound/a b+c.eml", len(raw))})
    assert out.objects[0].key == "inbound/a b+c.eml"


def test_bad_json_body_is_logged_acknowledged_and_stores_nothing(sqlite_world, caplog):
    """Given an SQS message whose body is not JSON / When the batch is handled without partial batch
    response / Then an error naming the message is logged, the batch succeeds (ack) and nothing is
    stored; with partial batch response on, the message is reported failed (to reach the DLQ)."""
    w = sqlite_world
    bad = {"messageId": "sqs-bad", "body": "{not json"}
    with caplog.at_level(logging.ERROR, logger="chalicelib.ingest.service"):
        assert w.service.handle_batch([bad]) is None
    assert "sqs-bad" in caplog.text and "not JSON" in caplog.text
    assert w.decisions() == []
    assert w.service.handle_batch([bad], partial_batch_response=True) == {"batchItemFailures": [{"itemIdentifier": "sqs-bad"}]}
    with pytest.raises(PermanentIngestError):
        w.service.handle_sqs_record({"messageId": "x", "body": json.dumps({"hello": "world"})})


def test_event_for_a_foreign_bucket_is_refused(sqlite_world):
    """Given an S3 event naming a bucket this consumer does not own / When handled / Then it is
    refused as permanent and nothing is read or stored."""
    with pytest.raises(PermanentIngestError):
        sqlite_world.service.handle_sqs_record(sqs_record("inbound/a", bucket="someone-elses-bucket"))
    assert sqlite_world.triage_calls == []


def test_missing_object_is_permanent(sqlite_world):
    """Given a notification for an object that no longer exists (lifecycle-expired) / When handled /
    Then it is a permanent error (a retry cannot bring the object back)."""
    with pytest.raises(PermanentIngestError):
        sqlite_world.service.handle_sqs_record(sqs_record("inbound/gone"))


def test_s3_throttling_is_retried_and_the_retry_succeeds(sqlite_world):
    """Given S3 throttling the first read / When the batch is handled / Then the invocation fails
    (SQS redelivers), nothing is stored, and the redelivery ingests the mail once."""
    w = sqlite_world
    rec = put_and_record(w, "inbound/t", mail())
    real = w.service.s3

    class Throttled:
        def __init__(self):
            self.failures = 1

        def get_object(self, **kw):
            if self.failures:
                self.failures -= 1
                raise ClientError({"Error": {"Code": "SlowDown", "Message": "reduce your rate"}}, "GetObject")
            return real.get_object(**kw)

    w.service.s3 = Throttled()
    with pytest.raises(TransientIngestError):
        w.service.handle_batch([rec])
    assert w.decisions() == []
    assert w.service.handle_batch([rec]) is None
    assert len(w.decisions()) == 1


def test_oversized_object_is_rejected_with_a_record_and_a_decision(world):
    """Given a mail larger than the size cap / When handled / Then it is not triaged; a
    rejected_too_large record and an escalate decision are stored instead of a crash."""
    world.service.max_bytes = 2048
    raw = mail(body="x" * 5000)
    out = world.service.handle_sqs_record(put_and_record(world, "inbound/big", raw)).objects[0]
    assert out.status == TriageStatus.rejected_too_large and out.outcome == "escalate"
    stored = world.store.triage.get(out.record_id)
    assert stored.size == len(raw) and stored.reasons == ["email_too_large"]
    assert world.triage_calls == []
    assert [d.outcome for d in world.decisions()] == ["escalate"]


def test_triage_failure_is_a_failed_parse_record_for_a_human(sqlite_world, caplog):
    """Given a triage pipeline that raises on a mail (with the mail's text in its message) / When
    handled / Then a failed_parse record and an escalate decision are stored, and the log names the
    exception class, never its message."""
    w = sqlite_world

    def broken(raw, **kw):
        raise RuntimeError(f"choked on {PAN}")

    w.service.triage_fn = broken
    with caplog.at_level(logging.DEBUG):
        out = w.service.handle_sqs_record(put_and_record(w, "inbound/f", mail())).objects[0]
    assert out.status == TriageStatus.failed_parse and out.outcome == "escalate"
    assert "RuntimeError" in caplog.text and PAN not in caplog.text


def test_planted_card_number_is_never_stored_decided_or_logged(world, caplog):
    """Given a mail with a Luhn-valid card number in the body, the subject and the sender's local
    part / When ingested / Then no card number appears in the stored record, the decision log or
    any captured log line."""
    raw = mail(sender=f"{PAN_DIGITS}@example.com", subject=f"card {PAN} charged",
               body=f"My card {PAN} was charged $49.99 at Amazon yesterday, I did not do this.")
    with caplog.at_level(logging.DEBUG):
        out = world.service.handle_sqs_record(put_and_record(world, "inbound/pan", raw)).objects[0]
    stored = world.store.triage.get(out.record_id)
    dumped = stored.model_dump_json()
    assert not contains_pan(dumped), dumped
    assert "1111" in stored.triage["redacted_text"]  # the last 4 stay, as PCI DSS 3.4 allows
    for d in world.decisions():
        assert not contains_pan(d.model_dump_json())
    # Our own log lines: no card-number-like run at all. Everything captured (botocore and moto debug
    # included, whose timestamps and ids can look Luhn-valid): not the planted number in any form.
    ours = " ".join(r.getMessage() for r in caplog.records if r.name.startswith(("chalicelib", "nlp", "app")))
    assert not contains_pan(ours)
    assert PAN not in caplog.text and PAN_DIGITS not in caplog.text
    assert stored.sender.endswith("***@example.com") and "1111" not in stored.sender


def test_alice_is_matched_and_her_case_linked(world):
    """Given a mail from alice@example.com mentioning her case DSP-ALICE1 / When ingested / Then the
    record names demo-alice, the case and its transaction, and the decision is linked to her."""
    raw = mail(subject="Update on DSP-ALICE1?", body="Any news on my dispute DSP-ALICE1 about Netflix?")
    out = world.service.handle_sqs_record(put_and_record(world, "inbound/alice", raw)).objects[0]
    stored = world.store.triage.get(out.record_id)
    assert stored.matched_customer_id == "demo-alice"
    assert stored.matched_case_id == "DSP-ALICE1"
    assert stored.matched_txn_id == "txn-alice-netflix"
    assert stored.sender == "a***@example.com"
    [decision] = world.decisions()
    assert decision.customer_ref is not None and decision.subject["case_id"] == "DSP-ALICE1"
    assert world.store.triage.list_for_customer("demo-alice")[0].record_id == out.record_id


def test_someone_elses_case_id_is_not_linked(sqlite_world):
    """Given a mail from bob mentioning alice's case id / When ingested / Then bob is matched but
    no case is linked: a case id alone never reaches another customer's case."""
    w = sqlite_world
    bob = w.store.customers.get("demo-bob")
    raw = mail(sender=bob.email, body="What about DSP-ALICE1?")
    stored = w.store.triage.get(w.service.handle_sqs_record(put_and_record(w, "inbound/bob", raw)).objects[0].record_id)
    assert stored.matched_customer_id == "demo-bob"
    assert stored.matched_case_id is None and stored.matched_txn_id is None


def test_unknown_sender_is_not_matched(sqlite_world):
    """Given a mail from an address no customer has / When ingested / Then no customer is matched."""
    w = sqlite_world
    raw = mail(sender="stranger@example.org", body="My case DSP-ALICE1")
    stored = w.store.triage.get(w.service.handle_sqs_record(put_and_record(w, "inbound/s", raw)).objects[0].record_id)
    assert stored.matched_customer_id is None and stored.matched_case_id is None


def test_mask_address_keeps_only_the_domain_and_first_letter():
    """Given addresses and junk / When masked / Then only the first letter and the domain remain."""
    assert mask_address("Alice.Smith@Example.COM") == "A***@example.com"
    assert mask_address("no-at-sign") == "***"
    assert mask_address(None) is None


def test_chalice_entry_point_ingests_through_the_test_client(sqlite_world, monkeypatch):
    """Given the deployed app and the service of this world / When Chalice's test client invokes
    email_ingest with an SQS event / Then the mail is stored and the invocation succeeds."""
    from chalice.test import Client

    import app as app_module
    from chatbot.bootstrap import Container

    w = sqlite_world
    monkeypatch.setattr(app_module, "root", Container(email_ingest=w.service))
    raw = mail()
    w.put("inbound/chalice", raw)
    with Client(app_module.app) as client:
        event = client.events.generate_sqs_event([s3_event_body(BUCKET, "inbound/chalice", len(raw))],
                                                 queue_name="da-email")
        response = client.lambda_.invoke("email_ingest", event)
    assert response.payload is None
    assert len(w.decisions()) == 1
    assert w.store.triage.find_by_s3_object(BUCKET, "inbound/chalice") is not None


def test_transaction_matched_by_amount_and_merchant(sqlite_world):
    """Given a mail from alice naming an amount and a merchant of exactly one of her transactions /
    When ingested / Then that transaction is linked; the same amount at another merchant links none."""
    w = sqlite_world
    raw = mail(message_id="<amzn@mail.example.com>", body="Amazon charged me $42.99 and the order never came.")
    stored = w.store.triage.get(w.service.handle_sqs_record(put_and_record(w, "inbound/m1", raw)).objects[0].record_id)
    assert stored.matched_txn_id == "txn-alice-amzn" and stored.matched_case_id is None
    other = mail(message_id="<other@mail.example.com>", body="Walmart charged me $42.99 and the order never came.")
    stored = w.store.triage.get(w.service.handle_sqs_record(put_and_record(w, "inbound/m2", other, "s2")).objects[0].record_id)
    assert stored.matched_customer_id == "demo-alice" and stored.matched_txn_id is None
