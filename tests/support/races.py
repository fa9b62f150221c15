"""Races for concurrency tests: start N workers, hold them at a barrier, let them go at once.

Why one scaffold: the tests that prove "eight deliveries, one effect" all need the same start line
(without the barrier the first thread is usually done before the last one starts, and the race
under test never happens), a bounded wait (a deadlock fails the test instead of hanging the
suite), and every worker's exception reported rather than lost in a thread.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable

DEFAULT_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class RaceResult:
    """Per worker, in index order: what ``work(i)`` returned, or the exception it raised."""

    outcomes: list

    @property
    def returned(self) -> list:
        return [o for o in self.outcomes if not isinstance(o, BaseException)]

    @property
    def raised(self) -> list[BaseException]:
        return [o for o in self.outcomes if isinstance(o, BaseException)]


def race(n: int, work: Callable[[int], Any], *, timeout_s: float = DEFAULT_TIMEOUT_S) -> RaceResult:
    """Run ``work(0) … work(n-1)`` in ``n`` threads released together."""
    if n < 1:
        raise ValueError(f"a race needs at least one worker, got {n}")
    barrier = threading.Barrier(n)
    outcomes: list = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait(timeout_s)
            outcomes[i] = work(i)
        except BaseException as exc:  # reported to the caller, never lost in the thread
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout_s)
    stuck = [i for i, t in enumerate(threads) if t.is_alive()]
    if stuck:
        raise AssertionError(f"race workers {stuck} still running after {timeout_s}s")
    return RaceResult(outcomes)


def race_processes(ctx: Any, n: int, target: Callable[..., None], *args: Any,
                   timeout_s: float = DEFAULT_TIMEOUT_S) -> list:
    """Run ``target(*args, barrier, out)`` in ``n`` processes of the multiprocessing context ``ctx``
    released together; each puts one result on ``out``. Returns the n results (in arrival order)."""
    if n < 1:
        raise ValueError(f"a race needs at least one process, got {n}")
    barrier, out = ctx.Barrier(n), ctx.SimpleQueue()
    procs = [ctx.Process(target=target, args=(*args, barrier, out)) for _ in range(n)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout_s)
    codes = [p.exitcode for p in procs]
    if codes != [0] * n:
        for p in procs:
            if p.is_alive():
                p.kill()
        raise AssertionError(f"race processes exited with {codes}")
    return [out.get() for _ in procs]
