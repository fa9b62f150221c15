"""Where an escalation goes: queue and priority from its reason (``data/routing.yaml``), with the
one rule that needs context, a customer's own request for a person, decided here."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from chalicelib.tickets.model import Priority, Queue

_DATA = Path(__file__).with_name("data") / "routing.yaml"
CUSTOMER_REQUEST = "customer_request"


@dataclass(frozen=True)
class Route:
    queue: Queue
    priority: Priority


def parse_routing(doc: dict) -> tuple[Route, dict[str, Route]]:
    """Every entry must name a real queue and priority: a typo fails at load, not in production."""
    def route(row: dict, where: str) -> Route:
        try:
            return Route(Queue(row["queue"]), Priority(row["priority"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"routing table: {where} needs a known queue and priority ({exc})") from None

    default = route(doc.get("default") or {}, "default")
    return default, {reason: route(row, reason) for reason, row in (doc.get("reasons") or {}).items()}


@lru_cache(maxsize=1)
def routing_table() -> tuple[Route, dict[str, Route]]:
    return parse_routing(yaml.safe_load(_DATA.read_text(encoding="utf-8")))


def route_for(reason: str, *, vulnerable: bool = False, has_transaction: bool = False) -> Route:
    """A vulnerable customer always reaches the team trained for them, whatever the reason, at no
    lower than P2; a plain "talk to an agent" about a payment goes to the disputes desk."""
    default, table = routing_table()
    found = table.get(reason, default)
    if vulnerable:
        return Route(Queue.vulnerable_customers, min(found.priority, Priority.P2, key=lambda p: p.value))
    if reason == CUSTOMER_REQUEST and has_transaction:
        return Route(Queue.disputes, found.priority)
    return found
