"""Cost meter and hourly spending ceilings for external model tiers (breakers: ``governance.breaker``).

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

from chalicelib.core.clock import utcnow
# Re-exported: callers import the breaker from here since before it had its own module.
from chalicelib.governance.breaker import (  # noqa: F401
    CLOSED, HALF_OPEN, OPEN, BreakerOpen, CircuitBreaker, Transition, log_transitions)

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
        clock: Callable[[], datetime] = utcnow,
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
