"""The card-event stream through the Lambda Kinesis entry point."""
from __future__ import annotations

import json
import random

from chalice.test import Client

from chalicelib.fraud.events import PoisonRecord, parse_event
from chalicelib.fraud.generator import generate_day, kinesis_records
from chalicelib.fraud.service import handle_kinesis_event
from chalicelib.core.models import FraudAction, TxnStatus

from .conftest import DAY


def day_events():
    return [e for c in ("demo-alice", "demo-bob") for e in generate_day(c, DAY, anchor=DAY.replace(day=2))]


def expected_status(events):
    """The state each transaction must end in: its highest-sequence event decides."""
    last = {}
    for e in events:
        if e.txn_id not in last or e.order_key > last[e.txn_id].order_key:
            last[e.txn_id] = e
    m = {"authorisation": "pending", "settlement": "posted", "reversal": "reversed", "decline": "declined",
         "refund": "posted"}
    return {t: m[e.event_type.value] for t, e in last.items()}


def test_a_day_streams_to_the_right_states_once_even_when_delivered_three_times_out_of_order(world):
    # Given a day of events for both demo customers, each delivered three times, shuffled
    events = day_events()
    deliveries = events * 3
    random.Random(4).shuffle(deliveries)
    proc = world.processor()
    # When they arrive in batches of 25 through the Kinesis handler
    for i in range(0, len(deliveries), 25):
        resp = handle_kinesis_event({"Records": kinesis_records(deliveries[i:i + 25], start=i + 1)}, proc)
        assert resp == {"batchItemFailures": []}
    # Then every transaction ends in the state of its latest event
    for txn_id, status in expected_status(events).items():
        customer = "demo-alice" if "-alice-" in txn_id else "demo-bob"
        txn = world.store.transactions.get(customer, txn_id)
        if txn_id.endswith(("-risk", "-trip")):
            assert txn.status is TxnStatus.pending  # held, not posted
        else:
            assert txn.status.value == status, txn_id
    # And refunds are negative transactions
    refunds = [e for e in events if e.event_type.value == "refund"]
    for e in refunds:
        assert world.store.transactions.get(e.customer_id, e.txn_id).amount_minor == -e.amount_minor
    # And each risky authorisation (two per customer) was acted on once: one decision, one notice each
    fraud_rows = [d for c in ("demo-alice", "demo-bob") for d in world.store.fraud.list_for_customer(c)
                  if d.txn_id.endswith(("-risk", "-trip"))]
    assert len(fraud_rows) == 4
    assert len(list(world.outbox.glob("*.sms.json"))) == 4
    assert sum(1 for d in world.log.iter_decisions() if d.action == "fraud_action" and d.acted) == 4


def test_a_settlement_before_its_authorisation_still_ends_posted(world):
    # Given a purchase's authorisation and settlement
    events = generate_day("demo-bob", DAY, risky=False)
    settled = {e.txn_id for e in events if e.event_type.value == "settlement"}
    txn_id = sorted(settled)[0]
    auth = next(e for e in events if e.txn_id == txn_id and e.event_type.value == "authorisation")
    settle = next(e for e in events if e.txn_id == txn_id and e.event_type.value == "settlement")
    # When the settlement arrives first, then the (stale) authorisation
    proc = world.processor()
    proc.handle_records(kinesis_records([settle]))
    report = proc.handle_records(kinesis_records([auth], start=2))
    # Then the payment is posted at the settled amount, and began when it was authorised
    txn = world.store.transactions.get("demo-bob", txn_id)
    assert txn.status is TxnStatus.posted and txn.amount_minor == settle.amount_minor
    assert txn.occurred_at == auth.occurred_at
    assert report.applied[0].outcome == "stale"


def test_poison_records_are_quarantined_and_do_not_stop_the_others(world):
    # Given a batch with bad base64, bad JSON, an unknown schema version, a PAN, and a stranger's card
    good = generate_day("demo-bob", DAY, risky=False)[:3]
    stranger = good[0].model_copy(update={"event_id": "evt_stranger01", "card_id": "card-alice-1"})
    records = kinesis_records([good[0], b"{not json", json.dumps({"schema_version": 9}).encode(),
                               b'{"schema_version": 1, "note": "card 4111 1111 1111 1111"}', stranger, good[1], good[2]])
    records[0]["kinesis"]["data"] = "***not base64***"
    # When the batch is handled
    report = world.processor().handle_records(records)
    # Then the good records are applied, the poison ones quarantined with their codes, none retried
    assert [a.event_id for a in report.applied] == [good[1].event_id, good[2].event_id]
    assert [code for _, code in report.quarantined] == ["E_BASE64", "E_JSON", "E_SCHEMA_VERSION", "E_PAN_PRESENT",
                                                       "E_UNKNOWN_CARD"]
    assert report.response() == {"batchItemFailures": []}
    stored = world.processor().ledger.quarantined()
    assert len(stored) == 5
    assert all("4111 1111 1111 1111" not in q.excerpt for q in stored)


def test_a_storage_failure_is_reported_for_retry_and_the_retry_applies_it(world, monkeypatch):
    # Given the transactions table failing once
    ev = generate_day("demo-bob", DAY, risky=False)[0]
    proc = world.processor()
    real_put = world.store.transactions.put
    calls = {"n": 0}

    def flaky(txn):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("throttled")
        real_put(txn)

    monkeypatch.setattr(world.store.transactions, "put", flaky)
    # When the record is delivered, fails, and is redelivered
    first = proc.handle_records(kinesis_records([ev]))
    second = proc.handle_records(kinesis_records([ev]))
    # Then the first reports it as a batch item failure and the retry applies it
    assert first.response() == {"batchItemFailures": [{"itemIdentifier": kinesis_records([ev])[0]["kinesis"]["sequenceNumber"]}]}
    assert second.applied[0].outcome == "created"


def test_the_chalice_entry_point_parses_and_answers_with_batch_item_failures(world, monkeypatch):
    # Given the app's card_events function and a processor over the test world
    import app as app_module
    from chatbot.bootstrap import Container

    monkeypatch.setattr(app_module, "root", Container(world.settings, card_events=world.processor()))
    ev = generate_day("demo-alice", DAY, risky=False)[0]
    with Client(app_module.app) as client:
        event = client.events.generate_kinesis_event([ev.to_json().encode(), b"garbage"])
        # When the function is invoked with a Chalice-generated Kinesis event
        resp = client.lambda_.invoke("card_events", event)
    # Then the good event is applied and the poison one is not retried
    assert resp.payload == {"batchItemFailures": []}
    assert world.store.transactions.get("demo-alice", ev.txn_id) is not None


def test_parse_refuses_a_refund_without_its_purchase():
    body = json.loads(generate_day("demo-bob", DAY, risky=False)[0].to_json())
    body.update(event_type="refund")
    try:
        parse_event(json.dumps(body))
    except PoisonRecord as exc:
        assert exc.code == "E_VALIDATION"
    else:
        raise AssertionError("accepted")


def test_the_published_schema_file_matches_the_model():
    from pathlib import Path

    from chalicelib.fraud.generator import dumps_schema

    assert (Path(__file__).resolve().parents[2] / "docs" / "card-events.schema.json").read_text() == dumps_schema()


def test_the_generate_command_makes_a_day_that_has_already_happened(capsys):
    """Given `python -m chalicelib.fraud generate` without --day / When run / Then every event lies in
    the past (yesterday, UTC): the demo never tells a customer about a payment hours before it happens."""
    import json
    from datetime import datetime, timezone

    from chalicelib.fraud.__main__ import main

    assert main(["generate", "--customer", "demo-alice"]) == 0
    times = [datetime.fromisoformat(json.loads(line)["occurred_at"]) for line in capsys.readouterr().out.splitlines()]
    assert times and max(times) < datetime.now(timezone.utc)
