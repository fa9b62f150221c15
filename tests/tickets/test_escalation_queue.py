"""The escalation queues: SQS (moto) with its dead-letter queue, and the local SQLite queue that keeps
SQS's contract (redelivery, redrive to dead letters), each behind the desk that quotes the customer
the reference and the wait at once."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from chalicelib.core.models import Handoff
from chalicelib.storage.idempotency import IdempotencyGuard, SqliteIdempotencyStore
from chalicelib.tickets.desk import TicketDesk
from chalicelib.tickets.escalation_queue import LocalEscalationQueue, SqsEscalationQueue
from chalicelib.tickets.escalation_worker import EscalationWorker
from chalicelib.tickets.store_sqlite import SqliteTicketStore
from tests.tickets.test_escalation_worker import CountingPublisher, request

NOW = datetime(2026, 11, 18, 15, 0, tzinfo=timezone.utc)


@pytest.fixture
def parts(tmp_path):
    """(ticket repo, demo store, idempotency guard) on files of their own."""
    from chalicelib.demo.demo_data import seed
    from chalicelib.storage.sqlite import SqliteStore
    from tests.world import ANCHOR

    store = SqliteStore(tmp_path / "store.db")
    store.create_schema()
    seed(store, anchor=ANCHOR)
    repo = SqliteTicketStore(tmp_path / "tickets.db")
    repo.create_schema()
    idem = SqliteIdempotencyStore(tmp_path / "idem.db")
    idem.create_schema()
    return repo, store, IdempotencyGuard(idem)


def handoff(ref="HND-AAAAAA", customer="demo-alice", reason="customer_request") -> Handoff:
    return Handoff(handoff_id=ref, customer_id=customer, session_id="s1", reason=reason, summary="I need a person",
                   created_at=NOW)


def test_locally_a_poison_message_is_retried_then_parked_with_its_code_and_never_dropped(tmp_path, parts):
    """Given the local queue (redrive after 3 receives) holding a message of an unknown schema
    version, When three escalations each drain the queue, Then the message is received three times,
    then sits in the dead letters with code escalation.message.schema_unsupported and its body intact,
    while the good escalations opened their tickets."""
    repo, store, guard = parts
    worker = EscalationWorker(repo, store, CountingPublisher(), idempotency=guard)
    queue = LocalEscalationQueue(tmp_path / "esc.db", worker, max_receives=3)
    poison = json.dumps({"schema": "da.escalation", "version": 9, "ticket_id": "TKT-FUTURE"})
    poison_id = queue.send_body(poison)  # a producer of a newer release put it there
    for i, customer in enumerate(["demo-alice", "demo-bob", "demo-carol"]):
        assert queue.send(request(ref=f"HND-{i}", customer=customer)) is not None
        assert queue.pending() == (1 if i < 2 else 0)
    (dead,) = queue.dead_letters()
    assert (dead.message_id, dead.receives, dead.error_code, dead.body) == (
        poison_id, 3, "escalation.message.schema_unsupported", poison)
    assert len(repo.list()) == 3


def test_locally_an_sns_failure_still_quotes_the_reference_and_the_next_drain_announces_once(tmp_path, parts):
    """Given the team topic failing once, When a customer escalates, Then they are quoted the ticket
    reference and a wait at once (the ticket is stored, its announcement still queued); When the next
    escalation drains the queue, Then the first ticket is announced exactly once."""
    repo, store, guard = parts
    publisher = CountingPublisher(fail=1)
    desk = TicketDesk(repo, store, publisher, lambda: NOW, idempotency=guard,
                      queue=lambda w: LocalEscalationQueue(tmp_path / "esc.db", w))
    first = desk.escalate(handoff(), identity_level="token_verified")
    assert first.outcome == "replayed"  # the worker stored it; only its announcement is still queued
    assert first.ticket.ticket_id == request().ticket_id and first.wait.phrase
    assert publisher.published == [] and desk.queue.pending() == 1
    desk.escalate(handoff(ref="HND-BOB", customer="demo-bob"))
    assert sorted(publisher.published) == sorted(t.ticket_id for t in repo.list())
    assert desk.queue.pending() == 0 and len(publisher.published) == 2


def test_the_container_wires_the_local_queue_and_the_worker_the_sqs_entry_point_uses(tmp_path):
    """Given the local settings, When the composition root builds the desk and the escalation worker,
    Then the desk sends through the SQLite queue beside the store and the worker is the desk's own."""
    from chalicelib.core.settings import Settings
    from chatbot.bootstrap import Container

    settings = Settings(sqlite_path=tmp_path / "c.db", outbox_dir=tmp_path / "outbox")
    c = Container(settings)
    desk = c.get("tickets")
    assert isinstance(desk.queue, LocalEscalationQueue) and desk.queue.path == tmp_path / "c-escalations.db"
    assert c.get("escalation_worker") is desk.worker and desk.worker.idempotency is c.get("idempotency")


@pytest.fixture
def sqs(aws_env):
    """A moto SQS queue with a dead-letter queue after two receives (the template's redrive, shortened)."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("sqs", region_name="us-east-1")
        dlq = client.create_queue(QueueName="esc-dlq")["QueueUrl"]
        dlq_arn = client.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        url = client.create_queue(QueueName="esc", Attributes={
            "VisibilityTimeout": "0",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})})["QueueUrl"]
        yield client, url, dlq


def lambda_records(client, url) -> list[dict]:
    """What the event source mapping hands the function: received messages as SQS event records."""
    got = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
    return [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
             "attributes": m.get("Attributes", {}), "eventSource": "aws:sqs"} for m in got]


def run_mapping(worker, client, url) -> None:
    """The mapping's loop: deliver, delete what succeeded, leave the reported failures to redelivery."""
    records = lambda_records(client, url)
    failed = {f["itemIdentifier"] for f in worker.handle_batch(records, partial_batch_response=True)["batchItemFailures"]}
    for r in records:
        if r["messageId"] not in failed:
            client.delete_message(QueueUrl=url, ReceiptHandle=r["receiptHandle"])


def test_through_sqs_the_customer_is_quoted_at_once_and_the_worker_opens_that_ticket(sqs, parts):
    """Given the SQS queue, When a customer escalates, Then they are quoted the derived reference and
    a wait before any worker ran (outcome queued, nothing stored yet); When the function consumes the
    queue, Then the ticket under that very reference exists, announced once, and the queue is empty."""
    client, url, _ = sqs
    repo, store, guard = parts
    publisher = CountingPublisher()
    desk = TicketDesk(repo, store, publisher, lambda: NOW, idempotency=guard,
                      queue=lambda w: SqsEscalationQueue(client, url))
    quoted = desk.escalate(handoff(), identity_level="token_verified", txn_id="txn-alice-unrec")
    assert quoted.outcome == "queued" and repo.list() == [] and quoted.wait.phrase
    run_mapping(desk.worker, client, url)
    (ticket,) = repo.list()
    assert ticket.ticket_id == quoted.ticket.ticket_id and publisher.published == [ticket.ticket_id]
    assert ticket.context["identity_level"] == "token_verified" and ticket.context["transactions"]
    again = desk.escalate(handoff(ref="HND-OTHER"))  # the same customer and reason, another event
    assert again.outcome == "merged" and again.ticket.ticket_id == ticket.ticket_id


def test_through_sqs_a_poison_message_lands_in_the_dead_letter_queue_after_the_redrive_limit(sqs, parts):
    """Given an unparseable message on the queue, When the function is handed it on every receive,
    Then it is reported failed each time, and after maxReceiveCount SQS moves it to the DLQ intact."""
    client, url, dlq = sqs
    repo, store, guard = parts
    worker = EscalationWorker(repo, store, CountingPublisher(), idempotency=guard)
    client.send_message(QueueUrl=url, MessageBody="{this is not an escalation")
    for _ in range(3):
        run_mapping(worker, client, url)
    parked = client.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])
    assert [m["Body"] for m in parked] == ["{this is not an escalation"]
    assert lambda_records(client, url) == [] and repo.list() == []


def test_the_chalice_entry_point_works_a_batch_and_reports_the_poison_record(parts, monkeypatch):
    """Given the deployed app with this worker and partial batch responses on, When Chalice's test
    client invokes escalation_worker with an SQS event of a good request and a poison message, Then
    the ticket is opened and only the poison record is reported failed."""
    from chalice.test import Client

    import app as app_module
    from chalicelib.core.settings import get_settings
    from chatbot.bootstrap import Container

    repo, store, guard = parts
    worker = EscalationWorker(repo, store, CountingPublisher(), idempotency=guard)
    monkeypatch.setattr(app_module, "root", Container(escalation_worker=worker))
    monkeypatch.setenv("DA_ESCALATION_PARTIAL_BATCH_RESPONSE", "true")
    get_settings.cache_clear()
    try:
        with Client(app_module.app) as client:
            event = client.events.generate_sqs_event([request().to_body(), "not json"], queue_name="da-escalations")
            response = client.lambda_.invoke("escalation_worker", event)
    finally:
        get_settings.cache_clear()
    assert [t.ticket_id for t in repo.list()] == [request().ticket_id]
    (failure,) = response.payload["batchItemFailures"]
    assert failure["itemIdentifier"] == event["Records"][1]["messageId"]


class RefusingQueue:
    """SQS refusing every send (throttled, 5xx, timed out): what the desk sees is the adapter's error."""

    def __init__(self):
        self.sends = 0

    def send(self, request):
        from chalicelib.tickets.escalation_queue import EscalationQueueUnavailable

        self.sends += 1
        raise EscalationQueueUnavailable("[escalation.queue.unavailable] ClientError")


def test_a_queue_outage_never_loses_the_hand_over_and_a_late_delivery_is_a_replay(parts):
    """Given SQS refusing the escalation request, When a customer asks for a person, Then the same
    message is worked in line: the ticket exists, the team is told once and the customer is quoted
    its reference; When the send had in fact got through and the message is delivered later, Then
    the worker replays it: still one ticket and one announcement."""
    from chalicelib.tickets.escalation_queue import sqs_record

    repo, store, guard = parts
    publisher, refusing = CountingPublisher(), RefusingQueue()
    desk = TicketDesk(repo, store, publisher, lambda: NOW, idempotency=guard, queue=lambda w: refusing)
    done = desk.escalate(handoff(), identity_level="token_verified")
    assert refusing.sends == 1
    assert done.outcome == "created" and repo.get(done.ticket.ticket_id) is not None and done.wait.phrase
    assert publisher.published == [done.ticket.ticket_id]
    late = desk.worker.handle_record(sqs_record("late-1", desk.request_for(handoff(), identity_level="token_verified").to_body()))
    assert late.opened.ticket.ticket_id == done.ticket.ticket_id
    assert len(repo.list()) == 1 and publisher.published == [done.ticket.ticket_id]
