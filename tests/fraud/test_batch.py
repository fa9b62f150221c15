"""One SQLite transaction per Kinesis batch: exactly once per event, effects after the commit."""
from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

import pytest

from chalicelib.fraud.generator import generate_day, kinesis_records

from .conftest import DAY


def commits_during(world, fn):
    statements: list[str] = []
    conn = world.store._db.conn
    conn.set_trace_callback(statements.append)
    try:
        result = fn()
    finally:
        conn.set_trace_callback(None)
    return result, sum(1 for s in statements if s.strip().upper() == "COMMIT")


def test_a_batch_of_everyday_events_is_one_commit(world):
    # Given a day of ordinary payments for Bob (no risky one)
    events = generate_day("demo-bob", DAY, risky=False)
    proc = world.processor()
    # When they arrive as one Kinesis batch
    report, commits = commits_during(world, lambda: proc.handle_records(kinesis_records(events)))
    # Then they are all applied, in one transaction on the store's connection
    assert len(report.applied) == len(events) and not report.failures
    assert commits == 1


def test_a_failing_event_rolls_back_alone_and_its_retry_applies_once(world, monkeypatch):
    # Given three of Bob's events (a decline, then a purchase's authorisation and settlement), and the
    # ledger failing on the authorisation only
    events = generate_day("demo-bob", DAY, risky=False)[:3]
    proc = world.processor()
    real = proc.ledger.advance

    def advance(txn_id, key):
        if key == events[1].order_key:
            raise RuntimeError("disk")
        return real(txn_id, key)

    monkeypatch.setattr(proc.ledger, "advance", advance)
    records = kinesis_records(events)
    # When the batch is handled
    first = proc.handle_records(records)
    # Then the others commit, the failed one is reported and left no trace
    assert [a.event_id for a in first.applied] == [events[0].event_id, events[2].event_id]
    assert first.response() == {"batchItemFailures": [{"itemIdentifier": records[1]["kinesis"]["sequenceNumber"]}]}
    assert proc.unit.stored_result(proc.key(events[1])) is None  # not marked applied
    assert proc.unit.stored_result(proc.key(events[2]))["outcome"] == "created"  # the settlement came first
    # And when Kinesis redelivers from the failed record on, it is applied and the third is not redone
    monkeypatch.setattr(proc.ledger, "advance", real)
    second = proc.handle_records(records[1:])
    assert not second.failures
    assert second.applied[1] == first.applied[1]


def test_a_notice_that_fails_after_the_commit_is_sent_by_the_next_batch_once(world):
    # Given Alice's risky payment and a notifier that fails once
    risky = [e for e in generate_day("demo-alice", DAY) if e.txn_id.endswith("-risk")]
    proc = world.processor()
    decision_log, notifier = proc.effects
    calls = {"n": 0}

    class Flaky:
        def send(self, notice):
            calls["n"] += 1
            if calls["n"] == 1:
                raise RuntimeError("SNS throttled")
            return notifier.send(notice)

    proc.effects = (decision_log, Flaky())
    # When the batch commits but the notice cannot be sent
    first = proc.handle_records(kinesis_records(risky))
    # Then the hold stands and the decision is logged, the notice is still owed
    assert first.applied[0].fraud["action"] == "hold" and not first.failures
    assert list(world.outbox.glob("*.sms.json")) == []
    assert sum(1 for d in world.log.iter_decisions() if d.action == "fraud_action") == 1
    # And when the next batch (here: the same record redelivered) runs, the notice goes out once
    proc.handle_records(kinesis_records(risky))
    assert len(list(world.outbox.glob("*.sms.json"))) == 1
    assert sum(1 for d in world.log.iter_decisions() if d.action == "fraud_action") == 1


def test_a_later_payment_in_the_same_batch_sees_the_earlier_ones(world):
    # Given four card-not-present authorisations on one card within ten minutes
    base = generate_day("demo-bob", DAY, risky=False)[0]
    burst = [base.model_copy(update={"event_id": f"evt_burst{i:04d}", "txn_id": f"txn-burst-{i}",
                                     "event_type": base.event_type.__class__("authorisation"),
                                     "occurred_at": base.occurred_at + timedelta(minutes=2 * i),
                                     "sequence": 1000 + i}) for i in range(4)]
    # When they arrive in one batch
    report = world.processor().handle_records(kinesis_records(burst))
    # Then the fourth is scored with the first three in its history (velocity)
    assert "VELOCITY" in report.applied[3].fraud["reason_codes"]
    assert "VELOCITY" not in report.applied[0].fraud["reason_codes"]


def risky_events():
    return [e for c in ("demo-alice", "demo-bob") for e in generate_day(c, DAY) if e.txn_id.endswith("-risk")]


def fraud_decisions(world) -> list[str]:
    return [d.decision_id for d in world.log.iter_decisions() if d.action == "fraud_action"]


def test_a_batch_s_decisions_are_one_append_after_the_commit(world, monkeypatch):
    # Given risky payments of two customers in one batch
    events = risky_events()
    proc = world.processor()
    appends = []
    real = world.log.append_many
    monkeypatch.setattr(world.log, "append_many", lambda ds: appends.append(len(ds)) or real(ds))
    # When it is handled
    report = proc.handle_records(kinesis_records(events))
    # Then every decision is recorded by one batched append, in the order of the events, and the chain verifies
    held = [a.fraud["decision_id"] for a in report.applied if a.fraud and a.fraud.get("decision_id")]
    assert len(held) >= 2 and appends == [len(held)]
    assert fraud_decisions(world) == held
    assert world.log.verify().ok


def test_a_decision_log_that_fails_after_the_commit_loses_nothing_and_doubles_nothing(world, monkeypatch):
    # Given a batch of risky payments, and a decision log whose disk fails for this batch
    events = risky_events()
    proc = world.processor()
    store = world.log.store
    real = store.try_append_many

    def broken(rows):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(store, "try_append_many", broken)
    # When the batch is handled
    first = proc.handle_records(kinesis_records(events))
    # Then the payments, their holds and the customers' notices stand; no decision is in the log (each
    # write is all or none) and every one is still owed
    assert not first.failures and all(a.fraud for a in first.applied)
    assert len(list(world.outbox.glob("*.sms.json"))) == sum(1 for a in first.applied if a.fraud.get("notice"))
    assert fraud_decisions(world) == []
    owed = proc.unit.conn.execute("SELECT count(*) FROM fraud_pending_effects WHERE kind='decision'").fetchone()[0]
    assert owed == len(first.applied)
    # And when the disk is back and Kinesis redelivers the batch (the same records, three times over)
    monkeypatch.setattr(store, "try_append_many", real)
    for _ in range(3):
        again = proc.handle_records(kinesis_records(events))
        assert again.applied == first.applied
    # Then each decision is in the log once, in the order of the events, nothing is owed, and the chain verifies
    assert fraud_decisions(world) == [a.fraud["decision_id"] for a in first.applied]
    assert proc.unit.conn.execute("SELECT count(*) FROM fraud_pending_effects").fetchone()[0] == 0
    assert world.log.verify().ok


def test_a_crash_between_the_append_and_forgetting_it_records_nothing_twice(world, monkeypatch):
    # Given a batch of risky payments, and a process that dies right after their decisions are appended
    events = risky_events()
    proc = world.processor()
    real = proc.unit._forget

    def crash(seqs):
        if len(seqs) > 1:
            raise SystemExit("killed")
        real(seqs)

    monkeypatch.setattr(proc.unit, "_forget", crash)
    with pytest.raises(SystemExit):
        proc.handle_records(kinesis_records(events))
    recorded = fraud_decisions(world)
    assert len(recorded) == len(events)
    # When the next invocation handles the redelivered batch
    monkeypatch.setattr(proc.unit, "_forget", real)
    proc.handle_records(kinesis_records(events))
    # Then the owed rows are found recorded and dropped: no decision twice, the chain verifies
    assert fraud_decisions(world) == recorded
    assert proc.unit.conn.execute("SELECT count(*) FROM fraud_pending_effects").fetchone()[0] == 0
    assert world.log.verify().ok


def test_a_decision_that_can_never_be_recorded_does_not_hold_back_the_others(world):
    # Given a pending decision that the log refuses (a card number slipped into it) ahead of a batch
    proc = world.processor()
    with proc.unit.batch():
        proc.unit.defer("decision", dict(action="fraud_action", outcome="hold", decision_id="dec_bad_0001",
                                         explanation="card 4111 1111 1111 1111", customer_id="demo-bob"))
    # When a batch of risky payments is handled
    report = proc.handle_records(kinesis_records(risky_events()))
    # Then its decisions are recorded one by one, and only the refused one stays owed
    assert fraud_decisions(world) == [a.fraud["decision_id"] for a in report.applied]
    rows = proc.unit.conn.execute("SELECT payload FROM fraud_pending_effects").fetchall()
    assert [json.loads(p)["decision_id"] for (p,) in rows] == ["dec_bad_0001"]
