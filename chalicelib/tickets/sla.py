"""SLAs per queue and priority, and the wait a customer is told to expect. Both are data
(``data/sla.yaml``): operations change staffing and promises without a code change."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

import yaml

from chalicelib.tickets.model import Priority, Queue

_DATA = Path(__file__).with_name("data") / "sla.yaml"


@dataclass(frozen=True)
class QueuePlan:
    sla_hours: dict[Priority, float]
    handle_minutes: float
    agents: int


def parse_sla_table(doc: dict) -> dict[Queue, QueuePlan]:
    """Every queue must have an SLA for every priority, tighter (or equal) as priority rises."""
    plans: dict[Queue, QueuePlan] = {}
    for q in Queue:
        row = (doc.get("queues") or {}).get(q.value)
        if row is None:
            raise ValueError(f"sla table has no queue {q.value}")
        hours = {p: float(row["sla_hours"][p.value]) for p in Priority}
        ordered = [hours[p] for p in Priority]
        if ordered != sorted(ordered) or min(ordered) <= 0:
            raise ValueError(f"sla table: {q.value} SLAs must be positive and loosen from P1 to P4")
        plans[q] = QueuePlan(hours, float(row["handle_minutes"]), max(1, int(row["agents"])))
    return plans


@lru_cache(maxsize=1)
def sla_table() -> dict[Queue, QueuePlan]:
    return parse_sla_table(yaml.safe_load(_DATA.read_text(encoding="utf-8")))


def sla_due(queue: Queue | str, priority: Priority | str, created_at: datetime) -> datetime:
    return created_at + timedelta(hours=sla_table()[Queue(queue)].sla_hours[Priority(priority)])


@dataclass(frozen=True)
class ExpectedWait:
    minutes: int
    within_sla: bool  # False: the backlog is longer than the SLA allows (a supervisor should know)
    phrase: str  # what the customer is told, e.g. "about 2 hours"


def _phrase(minutes: int) -> str:
    if minutes <= 15:
        return "a few minutes"
    if minutes < 60:
        return f"about {int(math.ceil(minutes / 15) * 15)} minutes"
    hours = math.ceil(minutes / 60)
    if hours < 24:
        return "about 1 hour" if hours == 1 else f"about {hours} hours"
    days = math.ceil(hours / 24)
    return "about 1 day" if days == 1 else f"about {days} days"


def expected_wait(queue: Queue | str, priority: Priority | str, ahead: int) -> ExpectedWait:
    """Wait until an agent picks the ticket up, given ``ahead`` open tickets before it in the queue
    (same or higher priority, created earlier). The customer is never told more than the SLA: if
    the backlog says otherwise, ``within_sla`` is False and the promise is the SLA."""
    plan = sla_table()[Queue(queue)]
    rounds = math.ceil((max(0, ahead) + 1) / plan.agents)
    estimate = int(rounds * plan.handle_minutes)
    sla_minutes = int(plan.sla_hours[Priority(priority)] * 60)
    minutes = min(estimate, sla_minutes)
    return ExpectedWait(minutes=minutes, within_sla=estimate <= sla_minutes, phrase=_phrase(minutes))


def tickets_ahead(tickets, queue: Queue | str, priority: Priority | str, created_at: datetime) -> int:
    """How many open tickets of ``tickets`` come before a new one in ``queue``."""
    queue, priority = Queue(queue), Priority(priority)
    return sum(
        1
        for t in tickets
        if t.queue is queue and t.status.value == "open" and t.priority.value <= priority.value and t.created_at <= created_at
    )
