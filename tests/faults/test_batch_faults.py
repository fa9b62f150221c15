"""Storage failing under the two batch consumers: emails (SQS) and card events (Kinesis).

Why: both run on at-least-once delivery, so a fault is survivable only if every item that failed
is handed back for redelivery (``batchItemFailures``) and the redelivery finds nothing half done.
Each test injects faults, redelivers exactly what the consumer reported as failed until nothing
is, and then counts: every item ended processed, none twice, none silently dropped.
"""
from __future__ import annotations

import itertools
import random

import pytest
from botocore.exceptions import ClientError

from chalicelib.fraud.generator import generate_day, kinesis_records
from chalicelib.ingest.routing import ACTION
from chalicelib.storage.base import RepositoryError
from tests.fraud.conftest import DAY
from tests.fraud.conftest import world as fraud_world  # noqa: F401  (fixture)
from tests.ingest.conftest import world  # noqa: F401  (fixture)
from tests.ingest.test_email_ingest import mail, sqs_record

MAX_ROUNDS = 25


def every_nth(n: int):
    """A fault on every n-th call: deterministic, and intermittent enough that retries succeed."""
    counter = itertools.count(1)
    return lambda: next(counter) % n == 0


def redeliver_until_done(handle, records: list[dict], key: str, rounds_seen: list | None = None) -> int:
    """Hand back what each round reported as failed, as SQS/Kinesis would; the rounds it took."""
    pending = records
    for rounds in range(1, MAX_ROUNDS + 1):
        if rounds_seen is not None:
            rounds_seen.append(rounds)
        failed = {f["itemIdentifier"] for f in handle(pending)["batchItemFailures"]}
        pending = [r for r in pending if key_of(r, key) in failed]
        if not pending:
            return rounds
    raise AssertionError(f"{len(pending)} items still failing after {MAX_ROUNDS} deliveries")


def key_of(record: dict, key: str) -> str:
    return record["messageId"] if key == "sqs" else record["kinesis"]["sequenceNumber"]


@pytest.mark.parametrize("rate", [0.05, 0.2])
def test_dynamodb_throttling_under_email_ingest_ends_with_one_record_and_one_decision_each(world, rate):  # noqa: F811
    """Given DynamoDB (moto) answering ProvisionedThroughputExceededException to a seeded random
    ``rate`` of the calls of the store, the decision log and the idempotency guard, during the
    first three deliveries (a throttling burst; one mail makes dozens of calls) / When a batch of 8
    mails is
    delivered and whatever failed is redelivered / Then each mail ends as exactly one record and
    one decision, and the log holds no other decision."""
    if world.kind != "dynamodb":
        pytest.skip("DynamoDB throttling: the SQLite backend has no such fault")
    rng, seen = random.Random(rate), []

    def fault() -> bool:
        return len(seen) <= 3 and rng.random() < rate

    def throttle(**kw):
        if fault():
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}},
                              kw.get("model").name if kw.get("model") else "Call")

    records = []
    for i in range(8):
        raw = mail(message_id=f"<fault-{i}@example.com>", body=f"Hello, I was charged twice (message {i}).")
        world.put(f"in/{i}.eml", raw)
        records.append(sqs_record(f"in/{i}.eml", len(raw), f"sqs-{i}"))
    world.store.client.meta.events.register("before-call.dynamodb.*", throttle, unique_id="throttle")
    rounds = redeliver_until_done(lambda rs: world.service.handle_batch(rs, partial_batch_response=True), records, "sqs",
                                  seen)
    world.store.client.meta.events.unregister("before-call.dynamodb.*", unique_id="throttle")
    assert rounds > 1, "no fault reached the consumer"
    stored = [world.store.triage.find_by_s3_object("da-raw-mail", f"in/{i}.eml") for i in range(8)]
    assert all(stored) and len({r.record_id for r in stored}) == 8
    decisions = [d for d in world.decisions() if d.action == ACTION]
    assert sorted(d.decision_id for d in decisions) == sorted(r.decision_id for r in stored)


def test_s3_5xx_under_email_ingest_are_retried_not_dropped(world):  # noqa: F811
    """Given S3 answering 503 SlowDown / 500 InternalError on every other read / When a batch of 6
    mails is delivered and redelivered / Then every mail ends as one record and one decision."""
    fault = every_nth(2)
    codes = itertools.cycle(["SlowDown", "InternalError"])

    def flaky(**kw):
        if fault():
            raise ClientError({"Error": {"Code": next(codes)}, "ResponseMetadata": {"HTTPStatusCode": 503}}, "GetObject")

    records = []
    for i in range(6):
        raw = mail(message_id=f"<s3fault-{i}@example.com>")
        world.put(f"s3f/{i}.eml", raw)
        records.append(sqs_record(f"s3f/{i}.eml", len(raw), f"sqs-s3-{i}"))
    world.s3.meta.events.register("before-call.s3.GetObject", flaky, unique_id="flaky")
    rounds = redeliver_until_done(lambda rs: world.service.handle_batch(rs, partial_batch_response=True), records, "sqs")
    assert rounds > 1
    stored = [world.store.triage.find_by_s3_object("da-raw-mail", f"s3f/{i}.eml") for i in range(6)]
    assert all(stored)
    assert len([d for d in world.decisions() if d.action == ACTION]) == 6


def test_storage_failures_under_the_card_stream_end_with_each_event_applied_once(fraud_world, monkeypatch):  # noqa: F811
    """Given the transaction store failing every third write / When a day of card events is
    delivered and the failed records redelivered / Then every event is applied, each risky
    authorisation is scored, decided and notified exactly once, and no record was quarantined."""
    w = fraud_world
    events = [e for c in ("demo-alice", "demo-bob") for e in generate_day(c, DAY, anchor=DAY.replace(day=2))]
    proc = w.processor()
    fault = every_nth(3)
    put = w.store.transactions.put

    def flaky_put(txn):
        if fault():
            raise RepositoryError("injected: store unavailable")
        return put(txn)

    monkeypatch.setattr(w.store.transactions, "put", flaky_put)
    quarantined = []

    def handle(records):
        report = proc.handle_records(records)
        quarantined.extend(report.quarantined)
        return report.response()

    rounds = redeliver_until_done(handle, kinesis_records(events), "kinesis")
    assert rounds > 1 and quarantined == []
    for e in events:
        assert w.store.transactions.get(e.customer_id, e.txn_id) is not None, e.event_id
    # two risky payments per customer and day (one the customer may release, one for a person)
    risky = [d for c in ("demo-alice", "demo-bob") for d in w.store.fraud.list_for_customer(c)
             if d.txn_id.endswith(("-risk", "-trip"))]
    assert len(risky) == 4
    assert len(list(w.outbox.glob("*.sms.json"))) == 4
    assert sum(1 for d in w.log.iter_decisions() if d.action == "fraud_action" and d.acted) == 4


def test_sns_failing_keeps_each_fraud_notice_pending_until_sent_once(fraud_world):  # noqa: F811
    """Given SNS (the notifier) failing every send / When a day of card events is processed / Then
    the batch still succeeds (a notice is an effect, not the event), the notices wait in the
    pending-effects table, and once SNS recovers the next drain sends each exactly once."""
    from chalicelib.outbox import LocalOutbox

    w = fraud_world
    outbox, down = LocalOutbox(w.outbox), {"on": True}

    class FlakySns:
        def send(self, notice):
            if down["on"]:
                raise ClientError({"Error": {"Code": "InternalErrorException"}}, "Publish")
            return outbox.send(notice)

    from chalicelib.fraud.service import build_processor

    proc = build_processor(w.settings, store=w.store, decision_log=w.log, notifier=FlakySns())
    events = [e for c in ("demo-alice", "demo-bob") for e in generate_day(c, DAY, anchor=DAY.replace(day=2))]
    assert proc.handle_records(kinesis_records(events)).response() == {"batchItemFailures": []}
    assert list(w.outbox.glob("*.sms.json")) == []
    down["on"] = False
    proc.drain()
    proc.drain()  # a second drain finds nothing left: no notice twice
    assert len(list(w.outbox.glob("*.sms.json"))) == 4  # two held payments per customer
