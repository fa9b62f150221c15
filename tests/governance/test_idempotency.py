"""Idempotency contract on SQLite and DynamoDB (moto): replays and concurrent duplicates have one effect."""
from __future__ import annotations

import threading
import time

import boto3
import pytest

from chalicelib.storage.idempotency import (
    COMPLETED,
    DuplicateInProgress,
    DynamoIdempotencyStore,
    IdempotencyGuard,
    SqliteIdempotencyStore,
    idempotent,
    key_from,
)
from tests.support.aws import atomic_requests
from tests.support.races import race


@pytest.fixture(params=["sqlite", "dynamodb"])
def idem_store(request, tmp_path, aws_env):
    if request.param == "sqlite":
        s = SqliteIdempotencyStore(tmp_path / "idem.db")
        s.create_schema()
        yield s
        return
    from moto import mock_aws

    with mock_aws():
        s = DynamoIdempotencyStore(atomic_requests(boto3.client("dynamodb", region_name="us-east-1")), "t-idem")
        s.create_schema()
        yield s


class Effects:
    """Counts side effects (cases opened, emails sent) thread-safely."""

    def __init__(self, delay: float = 0.0):
        self.n = 0
        self.delay = delay
        self.lock = threading.Lock()

    def __call__(self, payload):
        time.sleep(self.delay)
        with self.lock:
            self.n += 1
            return {"case_id": f"DSP-{payload}", "effect": self.n}


def test_three_sequential_replays_have_one_effect(idem_store):
    """Given one event delivered 4 times in a row / Then the work ran once and every delivery got the same result."""
    guard = IdempotencyGuard(idem_store)
    effects = Effects()
    results = [guard.run("sqs#msg-1", effects, "A1") for _ in range(4)]
    assert effects.n == 1
    assert results == [{"case_id": "DSP-A1", "effect": 1}] * 4
    assert idem_store.get("sqs#msg-1").status == COMPLETED


def test_eight_concurrent_duplicates_have_one_effect(idem_store):
    """Given 8 threads delivering the same event at once / Then one execution; the 7 others wait and get its result."""
    guard = IdempotencyGuard(idem_store, wait_s=10, poll_s=0.01)
    effects = Effects(delay=0.3)
    outcome = race(8, lambda _: guard.run("lex#session-9#turn-3", effects, "B2"))
    assert not outcome.raised
    assert effects.n == 1
    assert outcome.returned == [{"case_id": "DSP-B2", "effect": 1}] * 8


def test_duplicate_gives_up_with_a_clear_error_when_the_first_is_slow(idem_store):
    """Given a first worker still running / When a duplicate waits past its budget / Then DuplicateInProgress."""
    guard = IdempotencyGuard(idem_store, wait_s=0.1, poll_s=0.02)
    started, release = threading.Event(), threading.Event()

    def slow():
        started.set()
        release.wait(5)
        return "done"

    t = threading.Thread(target=lambda: guard.run("k-slow", slow))
    t.start()
    started.wait(5)
    with pytest.raises(DuplicateInProgress, match="k-slow"):
        guard.run("k-slow", lambda: "second")
    release.set()
    t.join()
    assert guard.run("k-slow", lambda: "third") == "done"


def test_failed_work_can_be_retried(idem_store):
    """Given work that raises / When the event is redelivered / Then it runs again (no poisoned key)."""
    guard = IdempotencyGuard(idem_store)
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("SES throttled")
        return "sent"

    with pytest.raises(RuntimeError):
        guard.run("email#m1", flaky)
    assert guard.run("email#m1", flaky) == "sent"
    assert guard.run("email#m1", flaky) == "sent"
    assert len(calls) == 2


def test_dead_worker_claim_is_taken_over_after_in_progress_ttl(idem_store):
    """Given a claim whose worker died (never completed) / When a retry comes after in_progress_ttl / Then it runs."""
    now = [1_000_000.0]
    guard = IdempotencyGuard(idem_store, in_progress_ttl_s=30, wait_s=0, clock=lambda: now[0], sleep=lambda s: None)
    assert idem_store.claim("k-dead", now[0], int(now[0] + 3600), int((now[0] + 30) * 1000)) is None
    with pytest.raises(DuplicateInProgress):
        guard.run("k-dead", lambda: "x")
    now[0] += 31
    assert guard.run("k-dead", lambda: "taken over") == "taken over"


def test_key_expires_after_ttl(idem_store):
    """Given a completed key / When the same key arrives after ttl_s / Then the work runs again."""
    now = [2_000_000.0]
    guard = IdempotencyGuard(idem_store, ttl_s=60, clock=lambda: now[0])
    effects = Effects()
    guard.run("k-exp", effects, "C")
    now[0] += 61
    guard.run("k-exp", effects, "C")
    assert effects.n == 2


@pytest.mark.parametrize(
    "event, key_fn",
    [
        ({"sessionId": "s-1", "inputTranscript": "file it", "sessionState": {"sessionAttributes": {"turn": "4"}}},
         lambda e: ("lex", e["sessionId"], e["sessionState"]["sessionAttributes"]["turn"])),
        ({"messageId": "9f1c", "body": '{"Records": []}'}, lambda e: ("sqs", e["messageId"])),
        ({"s3": {"bucket": {"name": "mail"}, "object": {"key": "raw/abc", "sequencer": "0A1B"}}},
         lambda e: ("s3", e["s3"]["bucket"]["name"], e["s3"]["object"]["key"], e["s3"]["object"]["sequencer"])),
        ({"Sns": {"MessageId": "sns-77", "Message": "{}"}}, lambda e: ("sns", e["Sns"]["MessageId"])),
    ],
    ids=["lex", "sqs", "s3", "sns"],
)
def test_decorator_per_event_type(idem_store, event, key_fn):
    """Given each entry-point event type / When the decorated handler gets it 3× in a row and 8× at once / Then one effect."""
    effects = Effects(delay=0.05)
    guard = IdempotencyGuard(idem_store, wait_s=10, poll_s=0.01)

    @idempotent(key_fn, namespace="handler", guard=guard)
    def handle(evt):
        return effects("X")

    for _ in range(3):
        handle(event)
    assert not race(8, lambda _: handle(event)).raised
    assert effects.n == 1


def test_key_from_is_stable_and_distinguishes_parts():
    """Given the same parts / Then the same key; parts that concatenate alike / Then different keys."""
    assert key_from("sqs", "m1") == key_from("sqs", "m1")
    assert key_from("a", "bc") != key_from("ab", "c")


def test_dynamodb_layout_is_readable_by_powertools(moto_aws, monkeypatch):
    """Given a record completed by our guard / When Powertools' DynamoDB persistence layer reads the same table /
    Then it sees a COMPLETED record with our result (one table serves both)."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    client = boto3.client("dynamodb", region_name="us-east-1")
    store = DynamoIdempotencyStore(client, "t-idem-pt")
    store.create_schema()
    IdempotencyGuard(store).run("fn#abc", lambda: {"ok": True})
    layer = DynamoDBPersistenceLayer(table_name="t-idem-pt", boto3_client=client)
    record = layer._get_record("fn#abc")
    assert record.status == "COMPLETED"
    assert record.response_json_as_dict() == {"ok": True}


def test_a_reset_forgets_every_record(idem_store):
    """Given a completed and an in-progress record / When the store is reset (a demo reseeding) / Then
    neither is remembered and the same key runs its work again."""
    guard = IdempotencyGuard(idem_store, ttl_s=3600)
    effects = Effects()
    guard.run("k-done", effects, "a")
    assert idem_store.claim("k-busy", time.time(), int(time.time()) + 3600, int(time.time() * 1000) + 60_000) is None
    idem_store.reset()
    assert idem_store.get("k-done") is None and idem_store.get("k-busy") is None
    guard.run("k-done", effects, "a")
    assert effects.n == 2
