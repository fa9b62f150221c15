"""The race scaffold itself: if it stopped releasing workers together or lost their errors, every
concurrency test built on it would pass without proving anything."""
from __future__ import annotations

import threading

import pytest

from tests.support.races import race


def test_all_workers_are_inside_their_work_at_the_same_time():
    """Given 8 workers that each wait (up to 5 s) until all 8 are inside their work, When raced, Then
    none gives up: the scaffold runs them at once, not one after another."""
    inside = threading.Barrier(8, timeout=5)
    outcome = race(8, lambda i: inside.wait())
    assert outcome.raised == []
    assert sorted(outcome.returned) == list(range(8))  # each got a distinct arrival index


def test_returns_and_exceptions_come_back_in_worker_order():
    """Given workers where the odd ones raise, When raced, Then each slot holds that worker's value or
    its exception, and returned / raised split them."""
    def work(i: int) -> int:
        if i % 2:
            raise KeyError(i)
        return i * 10

    outcome = race(4, work)
    assert outcome.outcomes[0] == 0 and outcome.outcomes[2] == 20
    assert [type(o) for o in outcome.outcomes[1::2]] == [KeyError, KeyError]
    assert outcome.returned == [0, 20] and len(outcome.raised) == 2


def test_a_worker_that_never_finishes_fails_the_race_instead_of_hanging():
    """Given a worker blocked on an event nobody sets, When raced with a short timeout, Then the race
    fails with a message naming the stuck worker."""
    never = threading.Event()
    with pytest.raises(AssertionError, match=r"race workers \[0\] still running"):
        race(1, lambda _: never.wait(), timeout_s=0.2)
    never.set()


def test_a_race_without_workers_is_refused():
    """Given no workers, Then the race is refused with a clear error."""
    with pytest.raises(ValueError, match="at least one worker"):
        race(0, lambda i: i)
