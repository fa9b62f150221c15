"""The step-up lockout under concurrency (issue 8.6): never more than the limit of codes compared,
and a success and a concurrent failure never overwrite each other. SQLite (threads, each with its
own connection like separate containers, and processes) and DynamoDB under moto (threads)."""
from __future__ import annotations

import multiprocessing

import pytest

from chalicelib.identity import stepup_store
from chalicelib.identity import StepUpService, StepUpStatus

from tests.support.aws import moto_dynamo_store
from tests.support.races import race, race_processes

from .conftest import ALICE_DOB, FakeClock, RecordingSender, seed

TRIALS = 30
LIMIT = 3  # settings.max_verification_failures in conftest


class CountingStepUp(StepUpService):
    """Counts every code comparison, the quantity the limit is about."""

    def __init__(self, *args, counter=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.counter = counter

    def _code_matches(self, *args) -> bool:
        with self.counter.get_lock():
            self.counter.value += 1
        return super()._code_matches(*args)


def _sqlite(path):
    from chalicelib.storage.sqlite import SqliteStore

    s = SqliteStore(path)
    s.create_schema()
    return s


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


@pytest.fixture(params=["sqlite", "dynamodb"])
def make_store(request, tmp_path, monkeypatch):
    """A factory of store handles on ONE shared backend (one per thread for SQLite)."""
    if request.param == "sqlite":
        path = tmp_path / "race.db"
        seed(_sqlite(path))
        yield lambda: _sqlite(path)
        return
    with moto_dynamo_store(monkeypatch, atomic=True, seed=seed) as s:
        yield lambda: s


def test_twenty_threads_of_wrong_codes_compare_at_most_the_limit(make_store, settings):
    """Given a pending code and a limit of 3, When 20 threads send wrong codes at once (30 trials,
    each on a fresh session and a fresh failure window), Then at most 3 codes are compared in every
    trial, the session ends locked, and 3 failures are stored."""
    clock = FakeClock()
    for trial in range(TRIALS):
        clock.advance(settings.lockout_s + 1)  # the customer lock of the previous trial has expired
        sender, counter = RecordingSender(), multiprocessing.Value("i", 0)
        stores = [make_store() for _ in range(20)]
        session = f"race-{trial}"
        assert StepUpService(stores[0], settings, sender, clock=clock).begin(session, "4242", ALICE_DOB).status == "code_sent"
        services = [CountingStepUp(s, settings, sender, clock=clock, counter=counter) for s in stores]
        outcome = race(20, lambda i: services[i].confirm(session, _wrong(sender.last_code)))
        assert not outcome.raised
        results = outcome.outcomes
        assert counter.value <= LIMIT, f"trial {trial}: {counter.value} codes compared"
        assert all(r.status in (StepUpStatus.wrong_code, StepUpStatus.locked) for r in results)
        state = stores[0].verifications.get(session)
        assert stepup_store.locked(state, clock()) and state.verified_customer_id is None


def test_success_racing_a_failure_is_never_overwritten(make_store, settings):
    """Given a pending code, When the right code and a wrong code arrive at once (30 trials), Then
    the stored state always agrees with the replies: a "verified" reply means the session is
    verified and stays so; otherwise nothing is verified."""
    clock = FakeClock()
    for trial in range(TRIALS):
        clock.advance(settings.lockout_s + 1)
        sender = RecordingSender()
        stores = [make_store() for _ in range(2)]
        session = f"mixed-{trial}"
        svc = [StepUpService(s, settings, sender, clock=clock) for s in stores]
        svc[0].begin(session, "4242", ALICE_DOB)
        code = sender.last_code
        outcome = race(2, lambda i: svc[i].confirm(session, code if i == 0 else _wrong(code)))
        assert not outcome.raised
        results = outcome.outcomes
        assert results[0].status == StepUpStatus.verified
        assert results[1].status in (StepUpStatus.wrong_code, StepUpStatus.no_challenge)
        assert svc[1].verified_customer(session) == "demo-alice"


def test_a_failure_landing_after_a_success_changes_nothing(tmp_path, settings):
    """Given a wrong code and the right one both claimed their attempt, When the success is written
    before the failure's lock write, Then the lock write is refused and the session stays verified."""
    store = _sqlite(tmp_path / "order.db")
    seed(store)
    clock, sender = FakeClock(), RecordingSender()
    StepUpService(store, settings, sender, clock=clock).begin("s", "4242", ALICE_DOB)
    h, now = store.verifications.get("s").otp_hash, clock()
    repo = store.verifications
    assert repo.update("s", stepup_store.claim(h, 2, now))[1]  # the success's attempt
    assert repo.update("s", stepup_store.claim(h, 2, now))[1]  # the failure's attempt: the last one
    assert not repo.update("s", stepup_store.claim(h, 2, now))[1]  # a third caller compares nothing
    assert repo.update("s", stepup_store.verify(h, "demo-alice", now))[1]
    written, ok = repo.update("s", stepup_store.lock_if_spent(h, 2, now, clock.now - clock.now, None))
    assert not ok and written.verified_customer_id == "demo-alice" and written.locked_until is None


def _process_confirm(path, settings, session, code, counter, now, barrier, out):
    """One process = one Lambda container: its own store handle, its own clock reading."""
    svc = CountingStepUp(_sqlite(path), settings, RecordingSender(), clock=FakeClock(now), counter=counter)
    barrier.wait()
    out.put(svc.confirm(session, code).status.value)


def test_processes_of_wrong_codes_compare_at_most_the_limit(tmp_path, settings):
    """Given one SQLite file and a pending code, When 6 processes send wrong codes at once (30 trials),
    Then at most 3 codes are compared in every trial and the session ends locked."""
    ctx = multiprocessing.get_context("fork")
    procs = 6
    clock = FakeClock()
    path = tmp_path / "procs.db"
    seed(_sqlite(path))
    for trial in range(TRIALS):
        clock.advance(settings.lockout_s + 1)
        sender = RecordingSender()
        session = f"proc-{trial}"
        StepUpService(_sqlite(path), settings, sender, clock=clock).begin(session, "4242", ALICE_DOB)
        counter = ctx.Value("i", 0)
        statuses = set(race_processes(ctx, procs, _process_confirm, path, settings, session,
                                      _wrong(sender.last_code), counter, clock.now, timeout_s=60))
        assert counter.value <= LIMIT, f"trial {trial}: {counter.value} codes compared"
        assert statuses <= {"wrong_code", "locked"}
        assert stepup_store.locked(_sqlite(path).verifications.get(session), clock.now)
