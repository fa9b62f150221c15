"""The composition root (chatbot/bootstrap.py): one of each service per container, built on first use."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.core.settings import Settings
from chatbot.bootstrap import Container, build_services

ROOT = Path(__file__).resolve().parents[2]
KEY = "bootstrap-test-key-0123456789abcdef0123456789abcdef"
MAIL = (b"From: Alice Example <alice@example.com>\r\nTo: support@bank.example\r\n"
        b"Subject: charged twice\r\nMessage-ID: <boot-1@example.com>\r\nDate: Tue, 17 Nov 2026 10:00:00 +0000\r\n"
        b"\r\nHello, Netflix charged me twice this month for the same subscription. Please refund one.\r\n")


@pytest.fixture
def settings(tmp_path):
    return Settings(backend="sqlite", sqlite_path=tmp_path / "root.db", identity_key=KEY,
                    otp_outbox_path=tmp_path / "outbox.log", outbox_dir=tmp_path / "outbox")


@pytest.fixture
def root(settings):
    from chalicelib.identity import LocalOutboxSender

    c = Container(settings, otp_sender=LocalOutboxSender(settings.otp_outbox_path), s3=object())
    c.get("store").create_schema()
    yield c
    c.close()


def test_every_writer_of_a_container_appends_to_its_one_decision_log(root):
    """Given one container, When the chat governance, the email service, the Comprehend tier's wiring
    and the card-event processor are built, Then each holds the container's one DecisionLog (one
    writer per hash chain) and its one store."""
    log, store = root.get("decision_log"), root.get("store")
    services, _ = root.get("chat")
    assert services.governance.log is log and services.store is store
    assert root.get("email_ingest").decision_log is log and root.get("email_ingest").store is store
    processor = root.get("card_events")
    assert processor.store is store
    # SQLite: the fraud actions write through a batch-deferred log that drains into the container's
    # one log after each batch commits (chalicelib.fraud.batch); elsewhere they hold the log itself.
    actions_log = processor.on_authorisation.__self__.actions.decision_log
    assert actions_log is log or (processor.effects is not None and processor.effects[0] is log)
    assert log.metrics is root.get("metrics") and services.metrics is root.get("metrics")


def test_a_service_is_built_once_per_container_and_never_shared_between_containers(settings):
    """Given two containers of the same settings, When each is asked twice for its controls, policy
    store and turn pool, Then a container answers with the same object and the two never share one
    (no module-level singleton behind them)."""
    a, b = Container(settings), Container(settings)
    try:
        for name in ("controls", "policy_store", "turn_pool", "metrics"):
            assert a.get(name) is a.get(name)
            assert a.get(name) is not b.get(name), name
    finally:
        a.close()
        b.close()


def test_a_container_builds_nothing_until_asked(settings):
    """Given a new container, Then no service exists yet (a cold start pays only for what its entry
    point uses), and attribute access builds the named one."""
    c = Container(settings)
    assert c._built == {}
    assert c.controls is c.get("controls") and set(c._built) == {"controls"}


def test_an_unknown_service_is_refused_by_name(settings):
    """Given a misspelt replacement, When a container is made with it, Then a TypeError names it."""
    with pytest.raises(TypeError, match="emial_ingest"):
        Container(settings, emial_ingest=object())
    with pytest.raises(AttributeError):
        Container(settings).no_such_service  # noqa: B018 - the access is the test


def test_close_stops_the_turn_pool(root):
    """Given a container whose turn pool ran a task, When it is closed, Then the pool takes no more work."""
    pool = root.get("turn_pool")
    assert pool.submit(lambda: 1).result(timeout=5) == 1
    root.close()
    with pytest.raises(RuntimeError):
        pool.submit(lambda: 2)


def test_importing_the_app_builds_no_service():
    """Given the Chalice app module, When imported, Then its container has built nothing: the switchboard
    only holds the root."""
    import app as app_module

    assert isinstance(app_module.root, Container)
    assert "chat" not in app_module.root._built and "email_ingest" not in app_module.root._built


def test_a_turn_on_services_wired_by_hand_still_answers(tmp_path, settings):
    """Given services with no turn pool (wired by hand, not by the root), When a turn runs through the
    hook, Then it is answered in a pool of its own."""
    from chalicelib.storage.sqlite import SqliteStore
    from chatbot.hook import handle_lex_event
    from tests.lex_events import make_lex_event

    store = SqliteStore(settings.sqlite_path)
    store.create_schema()
    services, resolver = build_services(settings, store=store)
    del services.turn_pool
    resp = handle_lex_event(make_lex_event(intent="TalkToAgent", slots={}, transcript="agent"), services, resolver,
                            budget_s=30)
    assert resp["sessionState"]["dialogAction"]["type"] in ("Close", "ElicitIntent", "ElicitSlot", "ConfirmIntent")
    assert resp.get("messages")


def test_the_email_cli_triages_a_file_with_the_roots_service(tmp_path):
    """Given a raw mail on disk and a fresh local store, When `python -m chalicelib.email_ingest` runs on
    it, Then it prints one JSON line for the file with its decision, and that decision is in the log."""
    (tmp_path / "mail.eml").write_bytes(MAIL)
    env = dict(os.environ, DA_BACKEND="sqlite", DA_SQLITE_PATH=str(tmp_path / "cli.db"), DA_IDENTITY_KEY=KEY)
    env.pop("DA_COMPREHEND_ENABLED", None)
    proc = subprocess.run([sys.executable, "-m", "chalicelib.email_ingest", str(tmp_path / "mail.eml")], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    assert [line["file"] for line in lines] == ["mail.eml"]
    assert lines[0]["decision_id"] and lines[0]["outcome"] in ("allow", "escalate")
    from chalicelib.governance.decision_log import build_decision_log

    ids = [d.decision_id for d in build_decision_log(Settings(sqlite_path=tmp_path / "cli.db")).iter_decisions()]
    assert lines[0]["decision_id"] in ids


def test_chat_and_email_triage_share_the_containers_comprehend_tier_and_log(settings, monkeypatch):
    """Given Comprehend switched on (credentials present, no call made), When a container builds the chat
    services and the email triage, Then both triage through one tier, whose shadow and spending decisions
    go to the container's one decision log and whose kill switch is the container's controls."""
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(k, v)
    c = Container(settings.model_copy(update={"comprehend_enabled": True}))
    try:
        tier = c.get("comprehend_tier")
        assert tier is not None
        assert c.get("chat")[0].triage.keywords["comprehend"] is tier
        assert c.get("triage_fn").keywords["comprehend"] is tier
        assert tier.decision_log is c.get("decision_log") and tier.controls is c.get("controls")
    finally:
        c.close()


def test_the_email_service_escalates_through_the_containers_one_ticket_desk(root):
    """Given one container, When its email service is built, Then its follow-up opens tickets on the
    container's ticket desk (the same one chat escalates to) and logs to its one decision log."""
    followup = root.get("email_ingest").followup
    assert followup.desk is root.get("tickets") is root.get("chat")[0].tickets
    assert followup.decision_log is root.get("decision_log") and followup.store is root.get("store")


def test_an_emailed_dispute_feeds_the_same_rollout_gate_as_chat(root):
    """Given one container, When its email follow-up and its chat governance are built, Then both hold the
    container's one rollout gate (a released hold disputed by email counts towards auto_release_hold)."""
    assert root.get("email_ingest").followup.rollout is root.get("rollout") is root.get("chat")[0].governance.rollout


def test_in_aws_every_containers_decisions_count_towards_one_shared_guard(tmp_path, monkeypatch):
    """Given two containers on the DynamoDB backend (two Lambda containers), hold release switched on
    and never staged (live for everyone) / When each sees 12 escalated releases (24 in all, above
    the 20 decisions a guard needs; neither alone has enough) / Then the guard is judged on all 24
    and rolls the capability back to shadow, recorded in the shared table both containers read."""
    from datetime import datetime, timezone

    import boto3
    from moto import mock_aws

    from chalicelib.governance.rollout_dynamodb import DynamoRolloutStore
    from tests.support.aws import REGION, use_fake_credentials

    class Log:
        def __init__(self):
            self.records = []

        def record(self, **kw):
            self.records.append(kw)

    use_fake_credentials(monkeypatch)
    monkeypatch.setenv("DA_CONTROL_AUTO_RELEASE_HOLD", "on")
    monkeypatch.delenv("DA_CONTROLS_SOURCE", raising=False)
    now = datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc)
    with mock_aws():
        DynamoRolloutStore(boto3.client("dynamodb", region_name=REGION), "da-rollout").create_schema()
        settings = Settings(backend="dynamodb", region=REGION, sqlite_path=tmp_path / "unused.db")
        log = Log()
        a, b = (Container(settings, clock=lambda: now, decision_log=log) for _ in range(2))
        gate_a, gate_b = a.get("rollout"), b.get("rollout")
        assert isinstance(gate_a.rollout.store, DynamoRolloutStore)
        assert gate_a.live("auto_release_hold", "demo-alice")
        for _ in range(12):
            gate_a.observe("auto_release_hold", escalated=True)
            gate_b.observe("auto_release_hold", escalated=True)
        report = gate_b.rollout.check("auto_release_hold")
        assert report.decisions == 24 and "escalation_rate" in report.breaches
        assert gate_a.rollout.stage("auto_release_hold")[0] == 0 and not gate_a.live("auto_release_hold", "demo-alice")
        assert [r["action"] for r in log.records] == ["rollout_rollback"]
