"""Circuit breakers for external tiers (Comprehend, the fraud-scoring endpoint).

Why: a slow or failing tier can eat Lex's 30 s budget and a runaway one can spend without limit.
A breaker stops calling its tier for a cool-down when errors, latency or spend in a window pass a
limit, and the caller answers from the local tier meanwhile. Breaker state stays per container on
purpose: a container that sees errors should back off without waiting for the fleet. Trips and
recoveries are recorded as system decisions (``log_transitions``), so the audit trail shows why an
answer came from the local tier.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


class BreakerOpen(Exception):
    def __init__(self, name: str):
        super().__init__(f"circuit {name!r} is open")
        self.name = name


@dataclass(frozen=True)
class Transition:
    name: str
    from_state: str
    to_state: str
    reason: str  # error_rate | latency | spend | cooldown_elapsed | probe_succeeded | probe_failed
    stats: dict[str, float]


class CircuitBreaker:
    """closed → open when, over the last ``window_s`` (with at least ``min_calls`` calls), the error
    rate reaches ``error_rate``, the mean latency reaches ``latency_ms``, or spend reaches
    ``spend_usd``; open → half-open after ``cooldown_s`` (one probe call allowed); half-open → closed
    when the probe succeeds, back to open when it fails."""

    def __init__(
        self,
        name: str,
        error_rate: float = 0.5,
        latency_ms: float = 2000.0,
        window_s: float = 60.0,
        cooldown_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        *,
        min_calls: int = 5,
        spend_usd: float | None = None,
        on_transition: Callable[[Transition], None] | None = None,
    ):
        self.name = name
        self.error_rate = error_rate
        self.latency_ms = latency_ms
        self.window_s = window_s
        self.cooldown_s = cooldown_s
        self.clock = clock
        self.min_calls = min_calls
        self.spend_usd = spend_usd
        self.on_transition = on_transition
        self._state = CLOSED
        self._opened_at = 0.0
        self._probe_in_flight = False
        self._calls: deque[tuple[float, bool, float]] = deque()  # (t, ok, latency_ms)
        self._spend: deque[tuple[float, float]] = deque()
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        with self._lock:
            transition = self._maybe_half_open()
            state = self._state
        self._emit(transition)
        return state

    def _emit(self, t: Transition | None) -> None:
        if t is not None and self.on_transition is not None:
            self.on_transition(t)

    def _stats(self) -> dict[str, float]:
        n = len(self._calls)
        errors = sum(1 for _, ok, _ in self._calls if not ok)
        return {
            "calls": n,
            "errors": errors,
            "error_rate": errors / n if n else 0.0,
            "mean_latency_ms": sum(l for _, _, l in self._calls) / n if n else 0.0,
            "spend_usd": sum(s for _, s in self._spend),
        }

    def _prune(self, now: float) -> None:
        while self._calls and self._calls[0][0] <= now - self.window_s:
            self._calls.popleft()
        while self._spend and self._spend[0][0] <= now - self.window_s:
            self._spend.popleft()

    def _move(self, to: str, reason: str) -> Transition:
        t = Transition(self.name, self._state, to, reason, self._stats())
        self._state = to
        if to == OPEN:
            self._opened_at = self.clock()
        if to == CLOSED:
            self._calls.clear()
            self._spend.clear()
        self._probe_in_flight = False
        return t

    def _maybe_half_open(self) -> Transition | None:
        if self._state == OPEN and self.clock() - self._opened_at >= self.cooldown_s:
            return self._move(HALF_OPEN, "cooldown_elapsed")
        return None

    def allow(self) -> bool:
        """Ask before each call: False means use the fallback (tier skipped)."""
        with self._lock:
            t = self._maybe_half_open()
            if self._state == CLOSED:
                ok = True
            elif self._state == HALF_OPEN and not self._probe_in_flight:
                self._probe_in_flight = True
                ok = True
            else:
                ok = False
        self._emit(t)
        return ok

    def _check_trip(self) -> Transition | None:
        now = self.clock()
        self._prune(now)
        s = self._stats()
        if self.spend_usd is not None and s["spend_usd"] >= self.spend_usd:
            return self._move(OPEN, "spend")
        if s["calls"] < self.min_calls:
            return None
        if s["error_rate"] >= self.error_rate:
            return self._move(OPEN, "error_rate")
        if s["mean_latency_ms"] >= self.latency_ms:
            return self._move(OPEN, "latency")
        return None

    def record_success(self, latency_ms: float = 0.0) -> None:
        with self._lock:
            if self._state == HALF_OPEN:
                t = self._move(CLOSED, "probe_succeeded")
            else:
                self._calls.append((self.clock(), True, latency_ms))
                t = self._check_trip() if self._state == CLOSED else None
        self._emit(t)

    def record_failure(self, latency_ms: float = 0.0) -> None:
        with self._lock:
            if self._state == HALF_OPEN:
                t = self._move(OPEN, "probe_failed")
            else:
                self._calls.append((self.clock(), False, latency_ms))
                t = self._check_trip() if self._state == CLOSED else None
        self._emit(t)

    def record_spend(self, usd: float) -> None:
        with self._lock:
            self._spend.append((self.clock(), usd))
            t = self._check_trip() if self._state == CLOSED else None
        self._emit(t)

    def call(self, fn: Callable[[], Any], fallback: Callable[[], Any], timer: Callable[[], float] = time.perf_counter) -> Any:
        """Run ``fn`` through the breaker; any exception or an open circuit yields ``fallback()``."""
        if not self.allow():
            return fallback()
        start = timer()
        try:
            result = fn()
        except Exception:
            self.record_failure((timer() - start) * 1000)
            return fallback()
        self.record_success((timer() - start) * 1000)
        return result


def log_transitions(decision_log, channel: str = "system") -> Callable[[Transition], None]:
    """A breaker callback that appends each trip/recovery to the decision log as a system decision."""

    def record(t: Transition) -> None:
        reasons = ["breaker_open"] if t.to_state == OPEN else [f"breaker_{t.to_state}"]
        decision_log.record(
            action="circuit_breaker",
            outcome=t.to_state,
            actor="system",
            channel=channel,
            reasons=reasons + [t.reason],
            subject={"breaker": t.name, "from": t.from_state},
            scores={k: float(v) for k, v in t.stats.items()},
            explanation=f"Circuit {t.name} went from {t.from_state} to {t.to_state} ({t.reason}).",
            acted=True,
        )

    return record
