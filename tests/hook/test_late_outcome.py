"""A turn past its time budget: the customer hears "taking longer", and the next turn tells the truth about
what the abandoned turn did (filed after all, or did not go through)."""
from __future__ import annotations

import threading
import time

from chalicelib.core.ids import session_key
from tests.hook.test_hook import _fulfil_event, _texts, _valid
from tests.lex_events import make_lex_event


class SlowCases:
    """The case repository with a create that waits for ``release`` (a store write stuck past the budget)."""

    def __init__(self, inner, release: threading.Event, fail: bool = False):
        self.inner, self.release, self.fail = inner, release, fail

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def create(self, case):
        self.release.wait(10)
        if self.fail:
            raise TimeoutError("store write timed out")
        return self.inner.create(case)


def _wait_for_late_result(world, session_id: str) -> None:
    """Until the abandoned turn has posted its result (bounded: the test fails rather than hangs)."""
    mailbox = world.services.late_outcomes
    for _ in range(400):
        if mailbox.pending(session_key(session_id)):
            return
        time.sleep(0.025)
    raise AssertionError("the overrun turn never posted its result")


def _next_turn(world, session_id: str, hook=None) -> str:
    ev = make_lex_event(intent="DisputeStatus", slots={"CaseId": None}, request_attributes=world.token("demo-alice"),
                        session_id=session_id)
    return _texts(_valid((hook or world.hook)(ev)))


def _alice_cases(world):
    return [c for c in world.store.cases.inner.list_for_customer("demo-alice") if c.txn_id == "txn-alice-unrec"]


def _overrun(world, session_id: str, fail: bool = False) -> str:
    """A dispute confirmed while the case write outlasts a 0.5 s budget: what the customer heard then."""
    release = threading.Event()
    world.store.cases = SlowCases(world.store.cases, release, fail=fail)
    try:
        return _texts(_valid(world.hook(_fulfil_event(world, session_id), budget_s=0.5)))
    finally:
        release.set()


def test_filing_that_finishes_after_the_budget_is_told_on_the_next_turn(world):
    """Given a case store whose write outlasts the turn budget / When the customer confirms a dispute / Then they
    hear "taking longer"; and When the write completes and they send their next message / Then the reply opens by
    saying it went through, naming the case that was filed, and says so only once."""
    first = _overrun(world, "late-1")
    assert "taking longer" in first and "next reply" in first
    _wait_for_late_result(world, "late-1")
    (case,) = _alice_cases(world)
    told = _next_turn(world, "late-1")
    assert told.startswith("About your earlier request") and "did go through" in told
    assert case.case_id in told.split("did go through", 1)[1]
    assert "earlier request" not in _next_turn(world, "late-1")


def test_filing_that_fails_after_the_budget_is_told_as_not_done(world):
    """Given a case store whose write outlasts the budget and then fails / When the customer confirms a dispute and
    then sends their next message / Then no case exists and the reply says the earlier request did not go through."""
    first = _overrun(world, "late-2", fail=True)
    assert "taking longer" in first
    _wait_for_late_result(world, "late-2")
    assert _alice_cases(world) == []
    told = _next_turn(world, "late-2")
    assert "did not go through" in told and "did go through" not in told


def test_a_turn_within_budget_leaves_no_note(world):
    """Given an ordinary turn that finishes in time / When the next turn runs / Then nothing about an earlier
    request is said."""
    _valid(world.hook(_fulfil_event(world, "late-3")))
    assert "earlier request" not in _next_turn(world, "late-3")


def test_the_note_outlives_the_container_that_overran(world):
    """Given a turn that overran its budget in one container and filed the case after all / When that container is
    gone (its services dropped) and the session's next turn reaches a fresh container on the same store / Then the
    fresh container's reply opens by saying the earlier request went through, naming the case, once."""
    from chalicelib.identity import LocalOutboxSender
    from chatbot.bootstrap import Container
    from chatbot.hook import handle_lex_event

    first = _overrun(world, "late-4")
    assert "taking longer" in first
    _wait_for_late_result(world, "late-4")
    (case,) = _alice_cases(world)
    world.services.turn_pool.shutdown(wait=True)
    world.services = world.resolver = None  # the first container is recycled: nothing of it survives
    fresh = Container(world.settings, clock=lambda: world.now, store=world.store,
                      otp_sender=LocalOutboxSender(world.settings.otp_outbox_path))
    try:
        services, resolver = fresh.get("chat")
        told = _next_turn(world, "late-4", hook=lambda ev: handle_lex_event(ev, services, resolver, budget_s=20))
        again = _next_turn(world, "late-4", hook=lambda ev: handle_lex_event(ev, services, resolver, budget_s=20))
    finally:
        fresh.close()
    assert told.startswith("About your earlier request") and case.case_id in told
    assert "earlier request" not in again
