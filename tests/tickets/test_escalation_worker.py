"""The escalation queue's worker on both ticket twins: every delivery at least once, one ticket and one
team notification; an SNS failure retried into exactly one notification; a throttled store retried;
a poison message refused with a stable code, every time, until the queue parks it."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from chalicelib.storage.base import RepositoryError
from chalicelib.storage.idempotency import IdempotencyGuard, SqliteIdempotencyStore
from chalicelib.tickets.escalation import BundleInputs, EscalationMessageError, escalation_request, parse_escalation
from chalicelib.tickets.escalation_queue import sqs_record
from chalicelib.tickets.escalation_worker import EscalationWorker
from tests.support.races import race

NOW = datetime(2026, 11, 18, 15, 0, tzinfo=timezone.utc)


class CountingPublisher:
    """Records every publish that got through; the first ``fail`` publishes raise as SNS would."""

    def __init__(self, fail: int = 0):
        self.published: list[str] = []
        self.fail = fail

    def publish(self, ticket) -> str:
        if self.fail > 0:
            self.fail -= 1
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "InternalError", "Message": "SNS is down"}}, "Publish")
        self.published.append(ticket.ticket_id)
        return f"msg-{len(self.published)}"


@pytest.fixture
def store(tmp_path):
    from chalicelib.demo.demo_data import seed
    from chalicelib.storage.sqlite import SqliteStore
    from tests.world import ANCHOR

    s = SqliteStore(tmp_path / "store.db")
    s.create_schema()
    seed(s, anchor=ANCHOR)
    return s


@pytest.fixture
def guard(tmp_path):
    idem = SqliteIdempotencyStore(tmp_path / "idem.db")
    idem.create_schema()
    return IdempotencyGuard(idem, wait_s=30.0)


def request(ref="HND-AAAAAA", customer="demo-alice", reason="customer_request", summary="I need a person"):
    return escalation_request(
        source="talk_to_agent", source_ref=ref, reason=reason, queue="disputes", priority="P3", created_at=NOW,
        customer_ref=customer, summary=summary,
        inputs=BundleInputs(identity_level="token_verified", txn_id="txn-alice-unrec",
                            messages=[{"role": "customer", "text": summary, "at": NOW.isoformat()}]),
    )


def deliver_until_done(worker, records, rounds: int = 10) -> int:
    """SQS's side of the contract: redeliver what the batch reported failed; returns the rounds used."""
    pending = list(records)
    for n in range(1, rounds + 1):
        failed = {f["itemIdentifier"] for f in worker.handle_batch(pending, partial_batch_response=True)["batchItemFailures"]}
        pending = [r for r in pending if r["messageId"] in failed]
        if not pending:
            return n
    raise AssertionError(f"{len(pending)} records still failing after {rounds} deliveries")


def test_the_serialised_request_round_trips_guarded_and_its_ticket_id_derives_from_its_key():
    """Given a request whose summary carries a card number, When serialised and parsed back, Then
    the body holds no card number, every other field round-trips, and the ticket id is the one the
    idempotency key derives (the reference chat quotes before the worker runs)."""
    req = request(summary="card 4111 1111 1111 1111 charged twice")
    body = req.to_body()
    assert "4111 1111 1111 1111" not in body and "4111111111111111" not in body
    back = parse_escalation(body)
    assert back.model_dump(exclude={"summary", "inputs"}) == req.model_dump(exclude={"summary", "inputs"})
    assert back.ticket_id == request(summary="other words").ticket_id  # the words do not change the id
    assert json.loads(body)["schema"] == "da.escalation" and json.loads(body)["version"] == 1


def test_a_long_email_is_queued_with_its_free_texts_cut_not_refused(tickets, store, guard):
    """Given an email escalation whose redacted text is 600 KB (over what SQS takes), When it is
    serialised, Then the body fits, says it was cut, parses back, and the worker opens its ticket."""
    req = request().model_copy(update={"inputs": BundleInputs(
        conversation_kind="email", triage={"category": "not_received", "redacted_text": "word " * 120_000})})
    body = req.to_body()
    assert len(body.encode()) < 200 * 1024
    back = parse_escalation(body)
    assert back.inputs.truncated and back.inputs.triage["category"] == "not_received"
    assert back.inputs.triage["redacted_text"].endswith("[cut]")
    worker = EscalationWorker(tickets, store, CountingPublisher(), idempotency=guard)
    assert worker.handle_batch([sqs_record("m-1", body)], partial_batch_response=True) == {"batchItemFailures": []}
    assert [t.ticket_id for t in tickets.list()] == [req.ticket_id]


@pytest.mark.parametrize("body, code", [
    ("{not json", "escalation.message.unparseable"),
    ('["a", "list"]', "escalation.message.unparseable"),
    (None, "escalation.message.unparseable"),
    ('{"schema": "da.escalation", "version": 2}', "escalation.message.schema_unsupported"),
    ('{"schema": "something.else", "version": 1}', "escalation.message.schema_unsupported"),
    ('{"schema": "da.escalation", "version": 1, "ticket_id": "TKT-X"}', "escalation.message.invalid"),
])
def test_a_poison_message_is_refused_with_a_stable_code(body, code):
    """Given a body that is not a current escalation request, When parsed, Then the stable code says why."""
    with pytest.raises(EscalationMessageError) as refused:
        parse_escalation(body)
    assert refused.value.code == code


def test_a_message_whose_ticket_id_was_changed_is_refused():
    """Given a well-formed request whose ticket id does not derive from its key, When parsed, Then it
    is refused as invalid (a worker never opens a ticket under a reference nobody was quoted)."""
    doc = json.loads(request().to_body())
    doc["ticket_id"] = "TKT-AAAAAAAA"
    with pytest.raises(EscalationMessageError, match="does not derive"):
        parse_escalation(json.dumps(doc))


def test_every_event_delivered_three_times_makes_one_ticket_and_one_notification(tickets, store, guard):
    """Given two escalation events (two customers), When each SQS message is delivered three times,
    Then two tickets exist, each announced once, and each ticket records when it was announced."""
    publisher = CountingPublisher()
    worker = EscalationWorker(tickets, store, publisher, idempotency=guard)
    bodies = [request().to_body(), request(ref="HND-BOBBOB", customer="demo-bob").to_body()]
    for delivery in range(3):
        records = [sqs_record(f"m{i}-{delivery}", b, delivery + 1) for i, b in enumerate(bodies)]
        assert worker.handle_batch(records, partial_batch_response=True) == {"batchItemFailures": []}
    assert len(tickets.list()) == 2 and sorted(publisher.published) == sorted(t.ticket_id for t in tickets.list())
    assert all(t.announced_at is not None for t in tickets.list())
    assert {t.ticket_id for t in tickets.list()} == {parse_escalation(b).ticket_id for b in bodies}


def test_every_event_delivered_eight_times_concurrently_makes_one_ticket_and_one_notification(tickets, store, guard):
    """Given one escalation event, When eight deliveries reach eight workers at once (and whatever
    they report failed is redelivered), Then one ticket exists and its team was told once."""
    publisher = CountingPublisher()
    worker = EscalationWorker(tickets, store, publisher, idempotency=guard)
    body = request().to_body()
    outcome = race(8, lambda i: deliver_until_done(worker, [sqs_record(f"m-{i}", body)]))
    assert not outcome.raised, outcome.raised
    (ticket,) = tickets.list()
    assert publisher.published == [ticket.ticket_id] and ticket.announced_at is not None
    assert ticket.context["ticket"]["ticket_id"] == ticket.ticket_id  # the bundle was built by the worker


def test_an_sns_failure_is_retried_into_exactly_one_notification(tickets, store, guard):
    """Given SNS failing on the first publish, When the message is delivered, Then the record is
    reported failed (the ticket is stored, not yet announced); When SQS redelivers it, Then the team
    is told exactly once, and a further delivery tells nobody again."""
    publisher = CountingPublisher(fail=1)
    worker = EscalationWorker(tickets, store, publisher, idempotency=guard)
    record = sqs_record("m-1", request().to_body())
    assert worker.handle_batch([record], partial_batch_response=True) == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    (stored,) = tickets.list()
    assert stored.announced_at is None and publisher.published == []
    assert worker.handle_batch([record], partial_batch_response=True) == {"batchItemFailures": []}
    assert worker.handle_batch([record], partial_batch_response=True) == {"batchItemFailures": []}
    assert publisher.published == [stored.ticket_id] and tickets.get(stored.ticket_id).announced_at is not None


class ThrottledOnce:
    """The ticket table throttling the first create (DynamoDB's ProvisionedThroughputExceeded)."""

    def __init__(self, repo):
        self.repo, self.throttled = repo, False

    def __getattr__(self, name):
        return getattr(self.repo, name)

    def create(self, ticket):
        if not self.throttled:
            self.throttled = True
            raise RepositoryError("dynamodb put_item tickets: ProvisionedThroughputExceededException")
        return self.repo.create(ticket)


def test_a_throttled_store_is_retried_and_the_rest_of_the_batch_is_worked(tickets, store, guard):
    """Given the table throttling one write, When a batch of two is delivered, Then only the throttled
    record is reported failed, and its redelivery opens its ticket (one each, one notification each)."""
    publisher = CountingPublisher()
    worker = EscalationWorker(ThrottledOnce(tickets), store, publisher, idempotency=guard)
    records = [sqs_record("m-1", request().to_body()), sqs_record("m-2", request(ref="HND-B", customer="demo-bob").to_body())]
    assert worker.handle_batch(records, partial_batch_response=True) == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    assert len(tickets.list()) == 1
    assert deliver_until_done(worker, records[:1]) == 1
    assert len(tickets.list()) == 2 and len(publisher.published) == 2


def test_without_partial_batch_responses_a_failure_fails_the_invocation_after_the_whole_batch(tickets, store, guard):
    """Given a mapping without ReportBatchItemFailures, When a batch holds a poison message and a good
    one, Then the good one is worked and the invocation raises (the batch is redelivered, the poison
    message is never acknowledged)."""
    publisher = CountingPublisher()
    worker = EscalationWorker(tickets, store, publisher, idempotency=guard)
    with pytest.raises(EscalationMessageError):
        worker.handle_batch([sqs_record("bad", "{nope"), sqs_record("good", request().to_body())])
    assert len(tickets.list()) == 1 and len(publisher.published) == 1
