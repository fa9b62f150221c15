"""``python -m chalicelib.demo_data --reset`` starts the demo over: the store, and what the card-event
stream and the progressive rollout remember of the last demo."""
from __future__ import annotations

from datetime import datetime, timezone

from chalicelib.core.settings import get_settings
from chalicelib.demo.demo_data import main
from chalicelib.fraud.generator import generate_day, kinesis_records
from chalicelib.fraud.service import build_processor
from chalicelib.governance.metrics import GovernanceMetrics
from chalicelib.governance.rollout_store import Observation, SqliteRolloutStore
from chalicelib.outbox import LocalOutbox
from chalicelib.storage.factory import get_store

from .conftest import ANCHOR, DAY

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


def replay(settings, events):
    proc = build_processor(settings, notifier=LocalOutbox(settings.outbox_dir),
                           metrics=GovernanceMetrics(sink=lambda line: None, enabled=True))
    return proc.handle_records(kinesis_records(events))


def test_a_demo_reset_lets_the_same_day_replay_and_forgets_the_rollout(tmp_path, monkeypatch, capsys):
    # Given a seeded demo on its own file, a day of Bob's card events replayed, and a capability promoted
    # with guard observations
    monkeypatch.setenv("DA_SQLITE_PATH", str(tmp_path / "demo.db"))
    monkeypatch.setenv("DA_OUTBOX_DIR", str(tmp_path / "outbox"))
    assert main(["--reset", "--anchor", ANCHOR.isoformat()]) == 0
    settings = get_settings()
    events = generate_day("demo-bob", DAY, risky=False)
    first = replay(settings, events)
    created = {a.txn_id for a in first.applied if a.outcome == "created"}
    assert created and not first.failures
    rollout = SqliteRolloutStore(settings.sqlite_path)
    rollout.set_stage("auto_release_hold", 25, T0, "guards held", 5)
    rollout.observe("auto_release_hold", T0, Observation(disagreed_with_rules=True))
    # When the demo is reset and the same day is replayed
    assert main(["--reset", "--anchor", ANCHOR.isoformat()]) == 0
    again = replay(settings, events)
    # Then the stream applies every event afresh and the payments are back; the rollout starts over
    assert [(a.txn_id, a.outcome) for a in again.applied] == [(a.txn_id, a.outcome) for a in first.applied]
    store = get_store(settings)
    assert all(store.transactions.get("demo-bob", t) is not None for t in created)
    assert rollout.get_stage("auto_release_hold") is None and rollout.history("auto_release_hold") == []
    assert rollout.observations("auto_release_hold", T0, T0) == []
    assert "kept: the decision log" in capsys.readouterr().err
