"""Cost meter, hourly ceiling (per container and shared) and circuit breaker with a fake clock."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from chalicelib.governance.cost import (
    CLOSED,
    HALF_OPEN,
    OPEN,
    CircuitBreaker,
    CostMeter,
    DynamoSpendCounter,
    SqliteSpendCounter,
    log_refusals,
    log_transitions,
)
from chalicelib.storage.idempotency import DynamoIdempotencyStore
from tests.governance.conftest import make_log
from tests.support.aws import atomic_requests


class WallClock:
    def __init__(self):
        self.now = datetime(2026, 11, 1, 10, 15, tzinfo=timezone.utc)

    def __call__(self):
        return self.now


class Mono:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


@pytest.mark.parametrize("chars, units", [(0, 3), (1, 3), (300, 3), (301, 4), (1500, 15), (5000, 50)])
def test_comprehend_units(chars, units):
    """Given texts of various lengths / Then 100-character units with a 3-unit minimum."""
    assert CostMeter().units_for("comprehend:DetectSentiment", chars) == units


def test_cost_is_attributed_to_decisions():
    """Given two calls for one decision and one for another / Then each decision carries its own cost, exactly."""
    m = CostMeter(1.0, clock=WallClock())
    m.record(15, api="comprehend:DetectSentiment", decision_id="d1")
    m.record(3, api="comprehend:DetectEntities", decision_id="d1")
    m.record(5, decision_id="d2")
    assert m.cost_for("d1") == pytest.approx(0.0018)
    assert m.cost_for("d2") == pytest.approx(0.0005)
    assert m.usage()["comprehend/comprehend:DetectSentiment"] == {"calls": 1, "units": 15, "usd": 0.0015}


def test_hourly_ceiling_refuses_then_resets_next_hour():
    """Given a $0.001 ceiling (10 units) / When 3-unit calls are attempted / Then 3 pass, the 4th is refused;
    next clock hour the budget is back."""
    clock = WallClock()
    m = CostMeter(0.001, clock=clock)
    assert [m.try_spend(3) for _ in range(4)] == [True, True, True, False]
    assert m.spent_this_hour() == pytest.approx(0.0009)
    clock.now += timedelta(hours=1)
    assert m.try_spend(3) is True


@pytest.mark.parametrize("kind", ["sqlite", "dynamodb"])
def test_shared_counter_caps_all_containers_together(kind, tmp_path, aws_env):
    """Given two containers sharing a spend counter and a 10-unit ceiling / When both spend concurrently /
    Then at most 10 units are reserved in total."""
    from moto import mock_aws

    with mock_aws():
        if kind == "sqlite":
            shared = SqliteSpendCounter(tmp_path / "spend.db")
        else:
            client = atomic_requests(boto3.client("dynamodb", region_name="us-east-1"))
            DynamoIdempotencyStore(client, "t-idem").create_schema()
            shared = DynamoSpendCounter(client, "t-idem")
        clock = WallClock()
        containers = [CostMeter(0.001, clock=clock, shared=shared) for _ in range(2)]
        granted = []

        def spend(m):
            for _ in range(10):
                granted.append(m.try_spend(3))

        threads = [threading.Thread(target=spend, args=(m,)) for m in containers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert granted.count(True) == 3
        assert containers[0].spent_this_hour() == pytest.approx(0.0009)


def test_refusal_is_logged_once_per_hour(tmp_path):
    """Given a meter wired to the decision log / When 5 calls are refused in an hour / Then one system decision."""
    log = make_log("sqlite", tmp_path)
    m = CostMeter(0.0003, clock=WallClock(), on_refused=log_refusals(log))
    assert m.try_spend(3)
    for _ in range(5):
        assert not m.try_spend(3)
    logged = list(log.iter_decisions())
    assert [(d.action, d.outcome, d.reasons) for d in logged] == [("spend", "deny", ["budget_exhausted"])]
    assert m.refusals_this_hour() == 5


def make_breaker(clock, transitions, **kw):
    return CircuitBreaker("comprehend", error_rate=0.5, latency_ms=1000, window_s=60, cooldown_s=30, clock=clock,
                          min_calls=4, on_transition=transitions.append, **kw)


def test_breaker_trips_on_error_rate_and_recovers_after_cooldown():
    """Given 2 of 4 calls failing / Then open, calls refused; after the cool-down one probe is let through;
    its success closes the circuit."""
    clock, seen = Mono(), []
    b = make_breaker(clock, seen)
    b.record_success(100)
    b.record_failure(100)
    b.record_success(100)
    assert b.state == CLOSED
    b.record_failure(100)
    assert b.state == OPEN and not b.allow()
    clock.t += 29
    assert not b.allow()
    clock.t += 1
    assert b.allow() is True  # the probe
    assert b.state == HALF_OPEN and not b.allow()  # only one probe at a time
    b.record_success(50)
    assert b.state == CLOSED and b.allow()
    assert [(t.from_state, t.to_state, t.reason) for t in seen] == [
        (CLOSED, OPEN, "error_rate"), (OPEN, HALF_OPEN, "cooldown_elapsed"), (HALF_OPEN, CLOSED, "probe_succeeded"),
    ]


def test_failed_probe_reopens():
    """Given a half-open breaker / When the probe fails / Then open again for a new cool-down."""
    clock, seen = Mono(), []
    b = make_breaker(clock, seen)
    for _ in range(4):
        b.record_failure()
    clock.t += 30
    assert b.allow()
    b.record_failure()
    assert b.state == OPEN
    clock.t += 10
    assert not b.allow()
    assert seen[-1].reason == "probe_failed"


def test_breaker_trips_on_latency_and_on_spend():
    """Given slow successful calls / Then open on latency; given spend over the window limit / Then open on spend."""
    clock, seen = Mono(), []
    b = make_breaker(clock, seen)
    for _ in range(4):
        b.record_success(1500)
    assert b.state == OPEN and seen[-1].reason == "latency"
    s = make_breaker(clock, seen, spend_usd=0.01)
    s.record_spend(0.006)
    assert s.state == CLOSED
    s.record_spend(0.005)
    assert s.state == OPEN and seen[-1].reason == "spend"


def test_old_errors_leave_the_window():
    """Given failures older than the window / Then they no longer count towards a trip."""
    clock, seen = Mono(), []
    b = make_breaker(clock, seen)
    for _ in range(3):
        b.record_failure()
    clock.t += 61
    for _ in range(4):
        b.record_success()
    b.record_failure()
    assert b.state == CLOSED


def test_call_uses_fallback_and_transitions_are_logged_as_decisions(tmp_path):
    """Given a breaker wired to the decision log / When the tier keeps failing / Then fallbacks are returned, and the
    trip and the recovery are system decisions in a verifiable chain."""
    log = make_log("sqlite", tmp_path)
    clock = Mono()
    b = CircuitBreaker("comprehend", 0.5, 1000, 60, 30, clock, min_calls=2, on_transition=log_transitions(log))

    def boom():
        raise TimeoutError("comprehend timed out")

    assert [b.call(boom, lambda: "local") for _ in range(3)] == ["local"] * 3
    clock.t += 30
    assert b.call(lambda: "remote", lambda: "local") == "remote"
    rows = [(d.action, d.outcome, d.reasons) for d in log.iter_decisions()]
    assert rows == [
        ("circuit_breaker", "open", ["breaker_open", "error_rate"]),
        ("circuit_breaker", "half_open", ["breaker_half_open", "cooldown_elapsed"]),
        ("circuit_breaker", "closed", ["breaker_closed", "probe_succeeded"]),
    ]
    assert log.verify().ok
