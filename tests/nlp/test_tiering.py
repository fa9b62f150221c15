"""The container's Comprehend tier in production wiring: kill switch, shadow mode, breaker and
hourly ceiling, each recorded as decisions, and the email consumer and chat fallback using it.

Comprehend is a real boto3 client served by a botocore ``Stubber`` with the documented shapes
(``../shared/data/comprehend/``); the container factory is replaced so the stubbed client is the
one the production code path (``triage_*_tiered`` → ``get_container_tier``) uses. The decision log
is the SQLite one on ``tmp_path``.
"""
from __future__ import annotations

import threading
import time
from datetime import UTC

import pytest

from chalicelib.governance.controls import Controls
from chalicelib.governance.decision_log import build_decision_log, contains_pan
from chalicelib.core.settings import Settings, get_settings
from nlp import tiering
from nlp.comprehend import ComprehendTier
from nlp.tiering import (
    SHADOW_ACTION,
    TIER_OFF,
    TIER_SHADOW,
    ControlledTier,
    build_container_tier,
)
from nlp.triage import triage_email_tiered, triage_text, triage_text_tiered
from tests.support.comprehend import PAN, SENTIMENT, UNSURE_LONG

BUCKET = "da-raw-mail"
OWN_SWITCH = object()  # the container fixture's default: a Controls over its own env mapping
PAN_DIGITS = PAN.replace(" ", "")


class Tick:
    """A monotonic clock the test moves (breaker cool-downs without sleeping)."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture(autouse=True)
def fresh_container(monkeypatch):
    for var in ("DA_CONTROL_COMPREHEND_TIER", "DA_COST_HOURLY_CEILING_USD", "DA_CONTROLS_SOURCE"):
        monkeypatch.delenv(var, raising=False)
    tiering.reset_container_tier()
    yield
    tiering.reset_container_tier()


@pytest.fixture
def dlog(tmp_path):
    return build_decision_log(Settings(sqlite_path=tmp_path / "governance.db"))


@pytest.fixture
def container(monkeypatch, tmp_path, dlog, client):
    """Install a container factory using the stubbed client; returns the control's env mapping
    (flip ``env["DA_CONTROL_COMPREHEND_TIER"]`` between messages) and the list of builds."""

    def install(mode: str = "on", clock=time.monotonic, controls=OWN_SWITCH, decision_log=None):
        env = {"DA_CONTROL_COMPREHEND_TIER": mode}
        builds: list[ControlledTier | None] = []
        settings = Settings(comprehend_enabled=True, sqlite_path=tmp_path / "store.db")

        def factory():
            tier = build_container_tier(settings, client=client, clock=clock,
                                        decision_log=decision_log if decision_log is not None else dlog,
                                        controls=Controls(env=env) if controls is OWN_SWITCH else controls)
            builds.append(tier)
            return tier

        monkeypatch.setattr(tiering, "_factory", factory)
        return env, builds

    return install


def decisions(dlog, action: str) -> list:
    return [d for d in dlog.iter_decisions() if d.action == action]


def sentiment_ok(stub, n: int = 1) -> None:
    for _ in range(n):
        stub.add_response("detect_sentiment", SENTIMENT,
                          {"Text": UNSURE_LONG.strip()[:500], "LanguageCode": "en"})


# ---------------------------------------------------------------------------------------------
# Modes


def test_on_mode_merges_comprehend_result(container, stub, dlog):
    """Given the comprehend_tier control on and a message the local classifier is unsure about
    When it is triaged through triage_text_tiered
    Then Comprehend's sentiment (POSITIVE) replaces the local one, the cost is billed on the
    result, and no shadow decision is recorded."""
    container("on")
    sentiment_ok(stub)
    r = triage_text_tiered(UNSURE_LONG, id="chat-on")
    assert r.tier_used == "comprehend"
    assert r.sentiment == "POSITIVE"
    assert r.cost_usd == pytest.approx(0.0005)
    assert "comprehend" in r.model_versions
    assert decisions(dlog, SHADOW_ACTION) == []


def test_off_mode_makes_no_call_and_says_so(container, client, stub, dlog):
    """Given the comprehend_tier control off and a stub that expects no call at all
    When a message that would need Comprehend is triaged
    Then no request is sent, nothing is metered, tier_used is local:comprehend_off, the result
    still lists why Comprehend would have been asked, and it claims no Comprehend model."""
    container("off")
    sent: list[str] = []
    client.meta.events.register("provide-client-params.comprehend", lambda params, **kw: sent.append(params))
    r = triage_text_tiered(UNSURE_LONG, id="chat-off")
    assert sent == []
    assert r.tier_used == TIER_OFF
    assert r.escalation_reasons == ["unsure"]
    assert r.sentiment == triage_text(UNSURE_LONG).sentiment
    assert r.cost_usd == 0.0
    assert "comprehend" not in r.model_versions
    assert tiering.get_container_tier().meter.usage() == {}
    assert list(dlog.iter_decisions()) == []


def test_shadow_mode_calls_logs_and_keeps_the_local_result(container, stub, dlog):
    """Given the comprehend_tier control in shadow and a stubbed DetectSentiment saying POSITIVE
    (the local tier says NEGATIVE)
    When the same message is triaged twice (a redelivery)
    Then Comprehend is called each time, the result equals the local-only one (tier_used
    local:comprehend_shadow, no cost on it), and exactly one shadow decision is recorded with
    shadow=True, not acted on, naming sentiment as the field it would have changed and carrying
    the Comprehend cost."""
    container("shadow")
    sentiment_ok(stub, 2)
    local = triage_text(UNSURE_LONG, id="mail-1", channel="email")
    assert local.sentiment == "NEGATIVE"

    first = triage_text_tiered(UNSURE_LONG, id="mail-1", channel="email")
    again = triage_text_tiered(UNSURE_LONG, id="mail-1", channel="email")

    assert first.tier_used == again.tier_used == TIER_SHADOW
    skip = {"tier_used", "escalation_reasons"}  # the local-only run never asked the tier
    assert first.model_dump(exclude=skip) == local.model_dump(exclude=skip)
    assert first.escalation_reasons == ["unsure"]
    shadows = decisions(dlog, SHADOW_ACTION)
    assert len(shadows) == 1
    d = shadows[0]
    assert (d.shadow, d.acted, d.mode, d.capability) == (True, False, "shadow", "comprehend_tier")
    assert d.outcome == "would_change"
    assert "would_change_sentiment" in d.reasons
    assert d.subject["changed"] == "sentiment"
    assert (d.subject["local_sentiment"], d.subject["comprehend_sentiment"]) == ("NEGATIVE", "POSITIVE")
    assert (d.subject["local_category"], d.subject["comprehend_category"]) == (local.category, local.category)
    assert d.channel == "email"
    assert d.cost_usd == pytest.approx(0.0005)
    assert dlog.verify().ok


def test_shadow_mode_without_a_need_for_comprehend_calls_nothing(container, client, stub, dlog):
    """Given shadow mode and a confident, low-stakes English message
    When it is triaged
    Then Comprehend is not asked (tier_used local) and no shadow decision is recorded."""
    container("shadow")
    sent: list[str] = []
    client.meta.events.register("provide-client-params.comprehend", lambda params, **kw: sent.append(params))
    r = triage_text_tiered("I was charged twice for my Netflix subscription this month", id="chat-2")
    assert r.tier_used == "local"
    assert sent == []
    assert decisions(dlog, SHADOW_ACTION) == []


def test_control_is_read_per_message_and_the_tier_built_once(container, stub, monkeypatch):
    """Given a container tier whose control comes from the environment (get_controls)
    When the operator flips DA_CONTROL_COMPREHEND_TIER off → on → shadow between three messages
    Then each message follows the mode of its moment, and the tier was built only once."""
    _, builds = container(controls=None)  # None: the process-wide get_controls(), reading os.environ
    sentiment_ok(stub, 2)
    tiers = []
    for mode in ("off", "on", "shadow"):
        monkeypatch.setenv("DA_CONTROL_COMPREHEND_TIER", mode)
        tiers.append(triage_text_tiered(UNSURE_LONG, id=f"chat-{mode}").tier_used)
    assert tiers == [TIER_OFF, "comprehend", TIER_SHADOW]
    assert len(builds) == 1


def test_container_tier_is_built_once_under_concurrency(monkeypatch):
    """Given a slow tier factory
    When eight threads ask for the container tier at the same time
    Then the factory runs once and every thread gets the same tier."""
    calls: list[int] = []
    sentinel = object()

    def slow_factory():
        calls.append(1)
        time.sleep(0.05)
        return sentinel

    monkeypatch.setattr(tiering, "_factory", slow_factory)
    got: list = []
    threads = [threading.Thread(target=lambda: got.append(tiering.get_container_tier())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert got == [sentinel] * 8


# ---------------------------------------------------------------------------------------------
# Breaker and ceiling, recorded as decisions


def test_breaker_trips_and_recovers_and_both_are_decisions(container, stub, dlog):
    """Given Comprehend failing with InternalServerException on five messages in a row
    When a sixth message comes, then the cool-down passes and a seventh message succeeds
    Then the breaker opens on the fifth failure (sixth message: local:breaker_open, no call),
    lets one probe through after the cool-down and closes; open, half-open and closed are each
    recorded as circuit_breaker decisions in a verifiable chain."""
    clock = Tick()
    container("on", clock=clock)
    for _ in range(5):
        stub.add_client_error("detect_sentiment", service_error_code="InternalServerException",
                              http_status_code=500)
    tiers = [triage_text_tiered(UNSURE_LONG, id=f"fail-{i}").tier_used for i in range(5)]
    assert tiers == ["local:comprehend_error"] * 5
    assert [d.outcome for d in decisions(dlog, "circuit_breaker")] == ["open"]

    assert triage_text_tiered(UNSURE_LONG, id="while-open").tier_used == "local:breaker_open"

    clock.t += 31  # past the 30 s cool-down
    sentiment_ok(stub)
    assert triage_text_tiered(UNSURE_LONG, id="probe").tier_used == "comprehend"

    trail = decisions(dlog, "circuit_breaker")
    assert [d.outcome for d in trail] == ["open", "half_open", "closed"]
    assert trail[0].reasons == ["breaker_open", "error_rate"]
    assert trail[0].subject["breaker"] == "comprehend"
    assert trail[0].scores["errors"] == 5.0
    assert [d.reasons[-1] for d in trail[1:]] == ["cooldown_elapsed", "probe_succeeded"]
    assert all(d.actor == "system" and d.acted for d in trail)
    assert dlog.verify().ok


def test_hourly_ceiling_refusal_is_a_decision(container, stub, dlog, monkeypatch):
    """Given an hourly ceiling of $0.0008 (one 5-unit DetectSentiment is $0.0005)
    When three messages needing Comprehend arrive in the same hour
    Then the first is answered by Comprehend, the others fall back with
    local:comprehend_budget_exhausted, and the refusal is recorded once as a spend/deny decision
    (a storm of refusals does not flood the log)."""
    monkeypatch.setenv("DA_COST_HOURLY_CEILING_USD", "0.0008")
    container("on")
    sentiment_ok(stub)
    tiers = [triage_text_tiered(UNSURE_LONG, id=f"budget-{i}").tier_used for i in range(3)]
    assert tiers == ["comprehend", "local:comprehend_budget_exhausted", "local:comprehend_budget_exhausted"]
    refusals = decisions(dlog, "spend")
    assert len(refusals) == 1
    assert (refusals[0].outcome, refusals[0].reasons) == ("deny", ["budget_exhausted"])
    assert refusals[0].subject["api"] == "comprehend:DetectSentiment"
    assert tiering.get_container_tier().meter.refusals_this_hour() == 2


def test_a_decision_log_outage_never_costs_the_triage(container, stub):
    """Given shadow mode and a decision log that raises on every write
    When a message needing Comprehend is triaged
    Then triage still returns the local result (the shadow decision is lost, not the message)."""

    class BrokenLog:
        def record(self, **kw):
            raise RuntimeError("decision store unavailable")

    container("shadow", decision_log=BrokenLog())
    sentiment_ok(stub)
    r = triage_text_tiered(UNSURE_LONG, id="outage")
    assert r.tier_used == TIER_SHADOW
    assert r.sentiment == "NEGATIVE"


# ---------------------------------------------------------------------------------------------
# Entry points


def _mail(body: str) -> bytes:
    headers = ["Message-ID: <tiered-1@mail.example.com>", "From: Alice Example <alice@example.com>",
               "To: disputes@bank.example", "Subject: Charged twice", "Date: Sat, 31 Oct 2026 10:00:00 +0000",
               "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8"]
    return ("\r\n".join(headers) + "\r\n\r\n" + body + "\r\n").encode("utf-8")


def test_email_consumer_uses_the_tier(container, client, stub, dlog, tmp_path):
    """Given the email consumer with triage_fn = triage_email_tiered, Comprehend enabled (stubbed)
    and a mail threatening legal action that quotes a card number
    When its S3 notification is handled
    Then Comprehend is asked with redacted text only, the stored triage record and the email
    decision say tier comprehend with its sentiment and cost."""
    from chalicelib.ingest.email_ingest import (
        LocalBucket,
        build_email_ingest_service,
        s3_event_body,
    )
    from chalicelib.storage.idempotency import IdempotencyGuard, SqliteIdempotencyStore
    from chalicelib.storage.sqlite import SqliteStore
    from nlp.redact import redact

    container("on")
    sent: list[dict] = []
    client.meta.events.register("provide-client-params.comprehend.DetectSentiment",
                                lambda params, **kw: sent.append(dict(params)))
    stub.add_response("detect_sentiment", SENTIMENT)
    raw = _mail(f"I was charged twice for 45.00 at Netflix on my card {PAN}. "
                "I will take legal action if this is not refunded.")
    path = tmp_path / "mail.eml"
    path.write_bytes(raw)
    store = SqliteStore(tmp_path / "store.db")
    store.create_schema()
    idem = SqliteIdempotencyStore(tmp_path / "idem.db")
    idem.create_schema()
    settings = Settings(sqlite_path=tmp_path / "store.db", raw_mail_bucket=BUCKET)
    service = build_email_ingest_service(
        settings, s3=LocalBucket(BUCKET, {"in/mail.eml": path}), store=store, decision_log=dlog,
        idempotency=IdempotencyGuard(idem), triage_fn=triage_email_tiered, redact_fn=redact)
    try:
        out = service.handle_sqs_record({"messageId": "sqs-1", "body": s3_event_body(BUCKET, "in/mail.eml", len(raw))})
        [obj] = out.objects
        record = store.triage.get(obj.record_id)
    finally:
        store.close()

    assert len(sent) == 1
    assert not contains_pan(sent[0]["Text"]) and PAN_DIGITS not in sent[0]["Text"].replace(" ", "")
    assert "6467" in sent[0]["Text"]  # the redaction token keeps the last 4
    assert record.triage["tier_used"] == "comprehend"
    assert record.triage["sentiment"] == "POSITIVE"
    assert "legal_threat" in record.triage["escalation_reasons"]
    decision = dlog.get(obj.decision_id)
    assert decision.tier == "comprehend"
    assert decision.cost_usd == pytest.approx(0.0003)


def test_email_consumer_gets_the_tiered_triage_from_its_entry_point(monkeypatch):
    """Given the deployed app and no email service built yet in the container
    When its SQS entry point handles a batch
    Then the service is built by the composition root with nlp's triage on the container's tier and
    nlp's redactor (chalicelib names no nlp module, not even in a settings string)."""
    from chalice.test import Client

    import app as app_module
    import chalicelib.ingest.service as service
    from chatbot.bootstrap import Container
    from nlp.redact import redact
    from nlp.triage import triage_email

    handed: dict = {}

    class Consumer:
        def handle_batch(self, records, partial_batch_response=False):
            return None

    def build(settings=None, **kwargs):
        handed.update(kwargs)
        return Consumer()

    container = Container(comprehend_tier=None)
    monkeypatch.setattr(app_module, "root", container)
    monkeypatch.setattr(service, "build_email_ingest_service", build)
    with Client(app_module.app) as client:
        client.lambda_.invoke("email_ingest", client.events.generate_sqs_event(["{}"], queue_name="da-email"))
    assert handed["redact_fn"] is redact
    assert handed["triage_fn"].func is triage_email
    assert handed["triage_fn"].keywords == {"comprehend": container.get("comprehend_tier")}
    assert handed["decision_log"] is container.get("decision_log")


def test_chat_fallback_triages_through_the_tier(container, client):
    """Given the comprehend_tier control off and a turn whose services carry the container's chat triage
    (chatbot/bootstrap.py binds triage_text to the container's tier)
    When the Lex fallback's triage runs on free text
    Then its result comes from the container tier (tier_used local:comprehend_off), not from a
    triage without a tier (which would say local:comprehend_disabled)."""
    import functools
    from datetime import datetime
    from types import SimpleNamespace

    from intents.fallback import _triage

    container("off")
    services = SimpleNamespace(triage=functools.partial(triage_text, comprehend=tiering.get_container_tier()))
    turn = SimpleNamespace(session_id="sess-1", now=datetime(2026, 11, 1, tzinfo=UTC), services=services)
    assert _triage(turn, UNSURE_LONG).tier_used == TIER_OFF
    bare = SimpleNamespace(session_id="sess-1", now=datetime(2026, 11, 1, tzinfo=UTC), services=None)
    assert _triage(bare, UNSURE_LONG).tier_used != TIER_OFF  # services wired by hand: local, no tier


# ---------------------------------------------------------------------------------------------
# Disabled / no credentials


@pytest.fixture
def no_aws_credentials(monkeypatch, tmp_path):
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def settings_env(monkeypatch):
    """Settings read from the environment by the default factory; the cache is cleared around."""
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_no_credentials_means_local_only(no_aws_credentials, settings_env):
    """Given DA_COMPREHEND_ENABLED=true but no AWS credentials anywhere
    When the default container factory runs and a message needing Comprehend is triaged
    Then there is no tier and the result is local:comprehend_disabled."""
    settings_env.setenv("DA_COMPREHEND_ENABLED", "true")
    assert build_container_tier(Settings(comprehend_enabled=True)) is None
    assert tiering.get_container_tier() is None
    assert triage_text_tiered(UNSURE_LONG).tier_used == "local:comprehend_disabled"


def test_credentials_and_enabled_build_a_lazy_controlled_tier(no_aws_credentials, monkeypatch):
    """Given Comprehend enabled and (fake) credentials in the environment
    When the container tier is built
    Then it is a controlled tier around a Comprehend client with the configured region and the
    per-call timeout, and building it sent no request."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    tier = build_container_tier(Settings(comprehend_enabled=True, region="eu-west-1", dependency_timeout_s=1.5))
    assert isinstance(tier, ControlledTier) and isinstance(tier.tier, ComprehendTier)
    assert tier.tier.client.meta.region_name == "eu-west-1"
    assert tier.tier.client.meta.config.read_timeout == 1.5
    assert tier.breaker is not None and tier.breaker.state == "closed"


def test_disabled_means_local_only_even_with_credentials(settings_env):
    """Given (fake) AWS credentials but DA_COMPREHEND_ENABLED=false
    When the default container factory runs and a message needing Comprehend is triaged
    Then there is no tier and the result is local:comprehend_disabled."""
    settings_env.setenv("AWS_ACCESS_KEY_ID", "testing")
    settings_env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    settings_env.setenv("DA_COMPREHEND_ENABLED", "false")
    assert build_container_tier(Settings(comprehend_enabled=False)) is None
    assert tiering.get_container_tier() is None
    assert triage_text_tiered(UNSURE_LONG).tier_used == "local:comprehend_disabled"


# ---------------------------------------------------------------------------------------------
# Progressive rollout


def test_at_5_percent_the_tier_is_live_for_the_bucket_and_shadow_for_the_rest(monkeypatch, tmp_path, client, stub, dlog):
    """Given the comprehend_tier control on but rolled out to 5% (a stable hash of the triage's subject)
    When a message of a subject in the bucket and one outside it are triaged
    Then Comprehend shapes the first, the second keeps the local result (asked in shadow), and both
    feed the capability's guards with their cost and the classifier's confidence and label."""
    from datetime import datetime, timezone

    from chalicelib.governance.rollout import Rollout, bucket
    from chalicelib.governance.rollout_gate import RolloutGate
    from chalicelib.governance.rollout_store import SqliteRolloutStore

    now = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
    gate = RolloutGate(Rollout(SqliteRolloutStore(tmp_path / "r.db"), clock=lambda: now))
    gate.rollout.store.set_stage(tiering.CAPABILITY, 5, now, "test", 0)
    ids = [f"chat-{i}" for i in range(400)]
    inside = next(i for i in ids if bucket(tiering.CAPABILITY, i) < 5)
    outside = next(i for i in ids if bucket(tiering.CAPABILITY, i) >= 5)
    settings = Settings(comprehend_enabled=True, sqlite_path=tmp_path / "store.db")
    monkeypatch.setattr(tiering, "_factory", lambda: build_container_tier(
        settings, client=client, decision_log=dlog, controls=Controls(env={"DA_CONTROL_COMPREHEND_TIER": "on"}),
        rollout=gate))
    sentiment_ok(stub, 2)
    live = triage_text_tiered(UNSURE_LONG, id=inside)
    shadow = triage_text_tiered(UNSURE_LONG, id=outside)
    assert live.tier_used == "comprehend" and live.sentiment == "POSITIVE"
    assert shadow.tier_used == TIER_SHADOW and shadow.sentiment == "NEGATIVE"
    seen = gate.rollout.store.observations(tiering.CAPABILITY, now.replace(year=2000), now)
    assert [o.label for o in seen] == [live.category, shadow.category]
    assert [o.cost_usd for o in seen] == [pytest.approx(0.0005)] * 2
