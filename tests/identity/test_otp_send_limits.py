"""One-time code sends are limited per session and per customer per hour, atomically, in both stores."""
from __future__ import annotations

import logging
import threading
from datetime import date

import pytest

from chalicelib.identity import StepUpService, StepUpStatus

from .conftest import ALICE_DOB, BOB_DOB
from .test_real_stores import real_store  # noqa: F401  (the SQLite + DynamoDB fixture)


def _codes_to(sender, customer_id: str) -> int:
    return sum(1 for cid, _ in sender.sent if cid == customer_id)


def test_per_session_limit(step_up, sender, settings):
    """Given one chat session, When it asks for a code more often than the per-session limit, Then
    the extra requests send nothing and say send_limited, escalating to a person."""
    results = [step_up.begin("s1", "4242", ALICE_DOB) for _ in range(settings.otp_max_sends_per_session + 2)]
    assert [r.status for r in results[:settings.otp_max_sends_per_session]] == [StepUpStatus.code_sent] * 3
    assert {r.status for r in results[3:]} == {StepUpStatus.send_limited}
    assert all(r.escalate for r in results[3:])
    assert _codes_to(sender, "demo-alice") == settings.otp_max_sends_per_session


def test_fifty_sessions_send_at_most_the_hourly_limit_then_the_window_reopens(step_up, sender, settings, clock):
    """Given 50 sessions asking for codes for Alice within an hour, Then she receives only the hourly
    limit; an hour after the first send, she can receive a code again."""
    statuses = [step_up.begin(f"s{i}", "4242", ALICE_DOB).status for i in range(50)]
    limit = settings.otp_max_sends_per_customer_per_hour
    assert statuses.count(StepUpStatus.code_sent) == limit
    assert _codes_to(sender, "demo-alice") == limit
    clock.advance(3600)
    assert step_up.begin("s-later", "4242", ALICE_DOB).status == StepUpStatus.code_sent


def test_refusal_does_not_confirm_a_guessed_birth_date(step_up, sender, settings):
    """Given Alice's hourly sends are used up, When someone tries her card with a wrong and with the
    right date of birth, Then both get the same refusal and no failure is counted against her."""
    for i in range(settings.otp_max_sends_per_customer_per_hour):
        step_up.begin(f"s{i}", "4242", ALICE_DOB)
    wrong = step_up.begin("probe-1", "4242", date(1990, 1, 1))
    right = step_up.begin("probe-2", "4242", ALICE_DOB)
    assert wrong.status == right.status == StepUpStatus.send_limited
    assert step_up.status("probe-1") is None


def test_another_customer_is_not_affected(step_up, sender, settings):
    """Given Alice's hourly sends are used up, Then Bob (another card) still gets his code."""
    for i in range(settings.otp_max_sends_per_customer_per_hour):
        step_up.begin(f"s{i}", "4242", ALICE_DOB)
    assert step_up.begin("bob-1", "1881", BOB_DOB).status == StepUpStatus.code_sent


def test_refusal_is_logged_with_a_stable_code(step_up, settings, caplog):
    """Given a session over its limit, Then the refusal is logged with error_code otp_send_limit_session,
    and a customer over hers with otp_send_limit_customer."""
    with caplog.at_level(logging.WARNING):
        for _ in range(settings.otp_max_sends_per_session + 1):
            step_up.begin("s1", "4242", ALICE_DOB)
        for i in range(settings.otp_max_sends_per_customer_per_hour):
            step_up.begin(f"t{i}", "4242", ALICE_DOB)
    codes = [getattr(r, "error_code", None) for r in caplog.records]
    assert "otp_send_limit_session" in codes and "otp_send_limit_customer" in codes


def test_limits_hold_on_real_stores(real_store, settings, sender, clock):  # noqa: F811
    """Given SQLite and DynamoDB (moto), When 12 sessions ask for Alice's code, Then the hourly limit holds."""
    svc = StepUpService(real_store, settings, sender, clock=clock)
    statuses = [svc.begin(f"chat-{i}", "4242", ALICE_DOB).status for i in range(12)]
    assert statuses.count(StepUpStatus.code_sent) == settings.otp_max_sends_per_customer_per_hour
    assert _codes_to(sender, "demo-alice") == settings.otp_max_sends_per_customer_per_hour


def test_concurrent_sessions_cannot_exceed_the_limit(tmp_path, settings, clock):
    """Given 16 threads, each its own session, asking for Alice's code at once on one SQLite file,
    Then exactly the hourly limit of codes is sent."""
    from chalicelib.storage.sqlite import SqliteStore

    from .conftest import RecordingSender, seed

    store = SqliteStore(tmp_path / "race.db")
    store.create_schema()
    seed(store)
    sender = RecordingSender()
    lock = threading.Lock()

    class Locked:
        def send(self, customer, code):
            with lock:
                sender.send(customer, code)

    svc = StepUpService(store, settings, Locked(), clock=clock)
    start = threading.Barrier(16)
    statuses: list = []

    def go(i: int) -> None:
        start.wait()
        statuses.append(svc.begin(f"race-{i}", "4242", ALICE_DOB).status)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(sender.sent) == settings.otp_max_sends_per_customer_per_hour
    assert statuses.count(StepUpStatus.send_limited) == 16 - settings.otp_max_sends_per_customer_per_hour
    store.close()


@pytest.mark.parametrize("value", [0, -1])
def test_limits_must_be_positive(tmp_path, value):
    """Given a zero or negative limit in settings, Then the settings are refused at start-up."""
    from pydantic import ValidationError

    from chalicelib.core.settings import Settings

    with pytest.raises(ValidationError):
        Settings(sqlite_path=tmp_path / "x.db", otp_max_sends_per_session=value)
