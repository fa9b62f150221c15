"""Incident metrics (issue 12): a release, a confirmed fraud and the time from the hold's notice to
the customer's answer are EMF metrics, each with a structured incident log line."""
from __future__ import annotations

import json
import logging

from chalicelib.governance.metrics import GovernanceMetrics

from .test_told_first import held  # noqa: F401  (the fixture: Bob's payment held by the stream)


def emf(lines: list[str]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for line in lines:
        doc = json.loads(line)
        for m in doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
            out.setdefault(m["Name"], []).append(doc)
    return out


def capture(world) -> list[str]:
    lines: list[str] = []
    world.services.metrics = GovernanceMetrics(sink=lines.append, enabled=True)
    return lines


def incidents(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "dispute_assistant.fraud_incident"]


def test_given_a_hold_when_the_customer_says_yes_and_verifies_then_response_time_and_release_are_emitted(held, caplog):
    world, _, event = held
    lines = capture(world)
    caplog.set_level(logging.INFO, logger="dispute_assistant.fraud_incident")
    fd = world.store.fraud.get_for_transaction("demo-bob", event.txn_id)
    chat = world.emulator("demo-bob")
    # When Bob is told, says it was him, and verifies
    chat.send("hi")
    chat.send("yes it was me")
    chat.send(world.store.cards.list_for_customer("demo-bob")[0].last4)
    chat.send("3 November 1975")
    chat.send(world.latest_code("demo-bob"))
    # Then one response time (the hold's notice to his answer; the yes after step-up is the same answer)
    metrics = emf(lines)
    [timed] = metrics["TimeToCustomerResponseSeconds"]
    assert timed["Answer"] == "yes"
    assert timed["TimeToCustomerResponseSeconds"] == (world.now - fd.created_at).total_seconds() > 0
    # And one release, and no confirmed fraud
    assert len(metrics["FraudHoldReleases"]) == 1 and "FraudConfirmed" not in metrics
    # And an incident line for each, with ids and the last 4 only
    kinds = [i["incident"] for i in incidents(caplog)]
    assert kinds == ["customer_response", "hold_released"]
    assert all(i["fraud_decision_id"] == fd.decision_id and i["card_last4"] for i in incidents(caplog))


def test_given_a_hold_when_the_customer_says_it_was_not_them_then_confirmed_fraud_is_emitted(held, caplog):
    world, _, _ = held
    lines = capture(world)
    caplog.set_level(logging.INFO, logger="dispute_assistant.fraud_incident")
    chat = world.emulator("demo-bob")
    chat.send("hi")
    # When Bob says it was not him
    chat.send("no it wasn't me")
    # Then a confirmed fraud and his response time are emitted, and no release
    metrics = emf(lines)
    assert len(metrics["FraudConfirmed"]) == 1
    assert [d["Answer"] for d in metrics["TimeToCustomerResponseSeconds"]] == ["not_me"]
    assert "FraudHoldReleases" not in metrics
    assert [i["incident"] for i in incidents(caplog)] == ["customer_response", "fraud_confirmed"]


def test_a_batch_sends_one_model_skipped_metric_per_reason_not_one_per_payment(world):
    """Given a day of card events in one Kinesis batch, no model configured (every authorisation skips
    it) / When the batch is handled / Then FraudModelSkipped is one EMF line whose value counts the
    batch's authorisations (a line per payment was a log line per card event in CloudWatch)."""
    import json

    from chalicelib.fraud.generator import generate_day, kinesis_records

    from .conftest import ANCHOR, DAY

    events = generate_day("demo-alice", DAY, anchor=ANCHOR)
    authorisations = sum(e.event_type.value == "authorisation" for e in events)
    world.emf.clear()
    assert world.processor().handle_records(kinesis_records(events)).response() == {"batchItemFailures": []}
    skipped = [json.loads(line) for line in world.emf if "FraudModelSkipped" in line]
    assert [(d["Reason"], d["FraudModelSkipped"]) for d in skipped] == [("mode_off", authorisations)]
