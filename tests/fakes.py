"""In-memory stand-ins for the storage protocol (``chalicelib.storage.base``).

Why: unit tests of services should not depend on a storage backend's schema or speed; the
contract suite proves the real stores behave like this. Records are copied on the way in and
out so a test cannot pass only because a service mutated a stored object in place.
"""
from __future__ import annotations

import threading
from datetime import datetime, timezone

from chalicelib.core.models import Card, Customer, VerificationState


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=timezone.utc)


class InMemoryCustomers:
    def __init__(self) -> None:
        self._items: dict[str, Customer] = {}

    def put(self, customer: Customer) -> None:
        self._items[customer.customer_id] = customer.model_copy(deep=True)

    def get(self, customer_id: str) -> Customer | None:
        c = self._items.get(customer_id)
        return c.model_copy(deep=True) if c else None

    def list_ids(self) -> list[str]:
        return sorted(self._items)

    def delete(self, customer_id: str) -> None:
        self._items.pop(customer_id, None)


class InMemoryCards:
    def __init__(self) -> None:
        self._items: dict[str, Card] = {}

    def put(self, card: Card) -> None:
        self._items[card.card_id] = card.model_copy(deep=True)

    def list_for_customer(self, customer_id: str) -> list[Card]:
        return [c.model_copy(deep=True) for c in self._items.values() if c.customer_id == customer_id]

    def find_by_last4(self, last4: str) -> list[Card]:
        return [c.model_copy(deep=True) for c in self._items.values() if c.last4 == last4]


class InMemoryVerifications:
    def __init__(self) -> None:
        self._items: dict[str, VerificationState] = {}
        self._lock = threading.Lock()
        self._failures: list[tuple[str, datetime]] = []

    def get(self, session_id: str) -> VerificationState | None:
        s = self._items.get(session_id)
        return s.model_copy(deep=True) if s else None

    def put(self, state: VerificationState) -> None:
        self._items[state.session_id] = state.model_copy(deep=True)

    def failures_for_customer(self, customer_id: str, since: datetime) -> int:
        since = _aware(since)
        return sum(1 for cid, at in self._failures if cid == customer_id and _aware(at) >= since)

    def record_customer_failure(self, customer_id: str, at: datetime) -> None:
        self._failures.append((customer_id, at))

    def update(self, session_id, change):
        with self._lock:
            current = self.get(session_id)
            new = change(current.model_copy(deep=True) if current else None)
            if new is None:
                return current, False
            self.put(new)
            return new.model_copy(deep=True), True


class InMemoryStore:
    """The parts of ``Store`` that identity and step-up verification use."""

    def __init__(self) -> None:
        self.customers = InMemoryCustomers()
        self.cards = InMemoryCards()
        self.verifications = InMemoryVerifications()

    def create_schema(self) -> None:
        """Nothing to create: kept so code that calls it on any store works here too."""
