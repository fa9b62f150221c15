"""Cost meter, hourly spending ceilings and circuit breakers for external model tiers.

Why: a paid API called from a hot path has no natural limit. A prompt-injection storm, a retry loop
or a mis-tuned tier threshold can call Comprehend on every message; a slow or failing tier can eat
Lex's 30 s budget. So every billed call is metered and attributed to the decision it served, spend
has a hard ceiling per clock hour, and each tier sits behind a breaker that stops calling it for a
cool-down when its errors, latency or spend in a window pass a limit. Trips and recoveries are
recorded as decisions (actor ``system``) through an injected callback, so the audit trail shows
why an answer came from the local tier.

What is per container: ``CostMeter`` totals and ``CircuitBreaker`` state live in the Lambda
container's memory, so N warm containers could each spend up to the ceiling and each breaker
learns on its own. A ``SpendCounter`` (SQLite locally, an item per hour in the idempotency table
in DynamoDB) makes the hourly ceiling global: ``try_spend`` then reserves against the shared total
with a conditional update. Breakers stay per container on purpose: a container that sees errors
should back off without waiting for the fleet.

Money is counted in integer micro-dollars so sums are exact; ``usd`` values are for display.
"""
from __future__ import annotations

import math
import os
import sqlite3
import threading
import time
from collections import defaultdict, deque
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Protocol

MICRO = 1_000_000


@dataclass(frozen=True)
class Price:
    """How an API bills: ``usd_per_unit`` for each unit of ``unit_chars`` characters, ``min_units`` per request."""

    usd_per_unit: float
    unit_chars: int = 100
    min_units: int = 3

    @property
    def micro_per_unit(self) -> int:
        return round(self.usd_per_unit * MICRO)

    def units(self, chars: int) -> int:
        return max(self.min_units, math.ceil(max(chars, 0) / self.unit_chars))


# Amazon Comprehend standard NLP APIs: $0.0001 per 100-character unit, 3-unit minimum per request.
COMPREHEND = Price(usd_per_unit=0.0001, unit_chars=100, min_units=3)
DEFAULT_PRICES: dict[str, Price] = {
    "comprehend:DetectSentiment": COMPREHEND,
    "comprehend:DetectEntities": COMPREHEND,
    "comprehend:DetectKeyPhrases": COMPREHEND,
    "comprehend:DetectDominantLanguage": COMPREHEND,
    "comprehend:DetectPiiEntities": COMPREHEND,
    "comprehend:DetectSyntax": COMPREHEND,
    "comprehend:DetectTargetedSentiment": COMPREHEND,
    "comprehend:ClassifyDocument": COMPREHEND,
    "comprehend": COMPREHEND,
    "local": Price(usd_per_unit=0.0, unit_chars=1, min_units=0),
}


class SpendCounter(Protocol):
    def reserve(self, bucket: str, micro: int, ceiling_micro: int) -> bool:
        """Atomically add ``micro`` to the bucket iff the total stays ≤ ceiling."""
        ...

    def total(self, bucket: str) -> int: ...


class SqliteSpendCounter:
    TABLE = "governance_spend"

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as c:
            c.execute(f"CREATE TABLE IF NOT EXISTS {self.TABLE} (bucket TEXT PRIMARY KEY, micro INTEGER NOT NULL)")

    def _connect(self):
        return sqlite3.connect(str(self.path), timeout=30, isolation_level=None, check_same_thread=False)

    def reserve(self, bucket, micro, ceiling_micro):
        with closing(self._connect()) as c:
            c.execute("BEGIN IMMEDIATE")
            row = c.execute(f"SELECT micro FROM {self.TABLE} WHERE bucket=?", (bucket,)).fetchone()
            current = row[0] if row else 0
            if current + micro > ceiling_micro:
                c.execute("COMMIT")
                return False
            c.execute(
                f"INSERT INTO {self.TABLE} (bucket, micro) VALUES (?, ?) ON CONFLICT(bucket) DO UPDATE SET micro = micro + ?",
                (bucket, micro, micro),
            )
            c.execute("COMMIT")
            return True

    def total(self, bucket):
        with closing(self._connect()) as c:
            row = c.execute(f"SELECT micro FROM {self.TABLE} WHERE bucket=?", (bucket,)).fetchone()
        return row[0] if row else 0


class DynamoSpendCounter:
    """One item per hour bucket (``id = "spend#<bucket>"``) in a table keyed by ``id`` (the idempotency
    table fits); ``expiration`` lets the table's TTL clean old buckets."""

    def __init__(self, client, table_name: str, retain_s: int = 7 * 86400, clock: Callable[[], float] = time.time):
        self.client = client
        self.table = table_name
        self.retain_s = retain_s
        self.clock = clock

    def reserve(self, bucket, micro, ceiling_micro):
        try:
            self.client.update_item(
                TableName=self.table,
                Key={"id": {"S": f"spend#{bucket}"}},
                UpdateExpression="ADD micro :m SET expiration = :e",
                ConditionExpression="attribute_not_exists(micro) OR micro <= :room",
                ExpressionAttributeValues={
                    ":m": {"N": str(micro)},
                    ":room": {"N": str(ceiling_micro - micro)},
                    ":e": {"N": str(int(self.clock() + self.retain_s))},
                },
            )
            return True
        except self.client.exceptions.ConditionalCheckFailedException:
            return False

    def total(self, bucket):
        item = self.client.get_item(TableName=self.table, Key={"id": {"S": f"spend#{bucket}"}}, ConsistentRead=True).get("Item")
        return int(item["micro"]["N"]) if item else 0


@dataclass(frozen=True)
class Charge:
    at: datetime
    api: str
    tier: str
    units: int
    micro: int
    decision_id: str | None


class CostMeter:
    """Meters billed units per tier/API, attributes them to decisions, enforces an hourly ceiling."""

    def __init__(
        self,
        hourly_ceiling_usd: float = 1.0,
        *,
        prices: dict[str, Price] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        shared: SpendCounter | None = None,
        on_refused: Callable[[str, int, float], None] | None = None,
    ):
        self.ceiling_micro = round(hourly_ceiling_usd * MICRO)
        self.prices = prices or DEFAULT_PRICES
        self.clock = clock
        self.shared = shared
        self.on_refused = on_refused
        self._lock = threading.Lock()
        self._hour: dict[str, int] = defaultdict(int)  # hour bucket -> micro spent in this container
        self._by_decision: dict[str, int] = defaultdict(int)
        self._by_tier_api: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])  # calls, units, micro
        self._ledger: deque[Charge] = deque(maxlen=10_000)
        self._refused: dict[str, int] = {}

    @classmethod
    def from_env(cls, **kwargs: Any) -> "CostMeter":
        return cls(float(os.environ.get("DA_COST_HOURLY_CEILING_USD", "1.0")), **kwargs)

    def _price(self, api: str) -> Price:
        price = self.prices.get(api) or self.prices.get(api.split(":", 1)[0])
        if price is None:
            raise KeyError(f"no price for API {api!r}: add it to the price table before calling it")
        return price

    def units_for(self, api: str, text: str | int) -> int:
        """Billed units for one request of ``text`` (or its length)."""
        return self._price(api).units(text if isinstance(text, int) else len(text))

    def price_micro(self, api: str, units: int) -> int:
        return units * self._price(api).micro_per_unit

    def bucket(self) -> str:
        return self.clock().astimezone(timezone.utc).strftime("%Y-%m-%dT%H")

    def try_spend(self, units: int, *, api: str = "comprehend", tier: str = "comprehend",
                  decision_id: str | None = None) -> bool:
        """Reserve the cost of ``units`` before calling; False (and nothing recorded) when over the ceiling."""
        micro = self.price_micro(api, units)
        bucket = self.bucket()
        with self._lock:
            if self._hour[bucket] + micro > self.ceiling_micro:
                refused = True
            elif self.shared is not None and not self.shared.reserve(bucket, micro, self.ceiling_micro):
                refused = True
            else:
                refused = False
                self._charge(bucket, api, tier, units, micro, decision_id)
            first_refusal = refused and bucket not in self._refused
            if refused:
                self._refused[bucket] = self._refused.get(bucket, 0) + 1
        # Only the first refusal of an hour is reported: a storm must not flood the decision log.
        if first_refusal and self.on_refused is not None:
            self.on_refused(api, units, micro / MICRO)
        return not refused

    def refusals_this_hour(self) -> int:
        with self._lock:
            return self._refused.get(self.bucket(), 0)

    def record(self, units: int, *, api: str = "comprehend", tier: str = "comprehend",
               decision_id: str | None = None) -> float:
        """Record spend that already happened (billed whatever the ceiling says); returns USD."""
        micro = self.price_micro(api, units)
        bucket = self.bucket()
        with self._lock:
            if self.shared is not None:
                self.shared.reserve(bucket, micro, 2**62)
            self._charge(bucket, api, tier, units, micro, decision_id)
        return micro / MICRO

    def _charge(self, bucket, api, tier, units, micro, decision_id):
        self._hour[bucket] += micro
        if decision_id:
            self._by_decision[decision_id] += micro
        agg = self._by_tier_api[(tier, api)]
        agg[0] += 1
        agg[1] += units
        agg[2] += micro
        self._ledger.append(Charge(self.clock(), api, tier, units, micro, decision_id))
        for old in [b for b in self._hour if b < bucket]:
            del self._hour[old]

    def cost_for(self, decision_id: str) -> float:
        """USD attributed to a decision (what ``DecisionLog.record(cost_usd=...)`` should get)."""
        with self._lock:
            return self._by_decision.get(decision_id, 0) / MICRO

    def spent_this_hour(self) -> float:
        bucket = self.bucket()
        if self.shared is not None:
            return self.shared.total(bucket) / MICRO
        with self._lock:
            return self._hour.get(bucket, 0) / MICRO

    def remaining_this_hour(self) -> float:
        return max(0.0, self.ceiling_micro / MICRO - self.spent_this_hour())

    def usage(self) -> dict[str, dict[str, float]]:
        """Per ``tier/api``: calls, units, usd (this container, since start)."""
        with self._lock:
            return {f"{t}/{a}": {"calls": v[0], "units": v[1], "usd": v[2] / MICRO} for (t, a), v in self._by_tier_api.items()}


# --------------------------------------------------------------------------------------------
# Circuit breaker
# --------------------------------------------------------------------------------------------

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


def log_refusals(decision_log, channel: str = "system") -> Callable[[str, int, float], None]:
    """A ``CostMeter(on_refused=...)`` callback: each refusal over the ceiling becomes a system decision."""

    def record(api: str, units: int, usd: float) -> None:
        decision_log.record(
            action="spend",
            outcome="deny",
            actor="system",
            channel=channel,
            reasons=["budget_exhausted"],
            subject={"api": api},
            scores={"units": float(units), "usd": usd},
            explanation=f"Hourly spending ceiling reached: {api} call refused; local result used.",
            acted=True,
        )

    return record
