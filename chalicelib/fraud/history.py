"""The customers' recent payments, read once per batch instead of once per authorisation.

Why: the rules judge a payment against the customer's own last 90 days, and loading (and
validating) that history for every authorisation was the largest cost left once the batch became
one transaction: an active customer has hundreds of rows, and one batch carries many of their
events. Within a batch the history is kept in memory and every payment the stream writes is
folded in, so a later event of the same batch still sees the earlier ones (velocity needs that).
Across batches a customer's rows are kept for ``max_age_s`` (and at most ``max_customers``, least
recently used out first): consecutive batches of one shard carry the same customers, and the
stream is the only writer of a payment's amount, place and merchant. Another writer (the chat
releasing a hold) changes a status at most ``max_age_s`` before the rules see it.
"""
from __future__ import annotations

import time
from collections import OrderedDict
from datetime import datetime
from typing import Callable

from chalicelib.core.models import Transaction


class HistoryCache:
    def __init__(self, store, *, max_age_s: float = 60.0, max_customers: int = 5000,
                 clock: Callable[[], float] = time.monotonic):
        if max_age_s < 0 or max_customers < 1:
            raise ValueError("max_age_s must be >= 0 and max_customers >= 1")
        self.store = store
        self.max_age_s = max_age_s
        self.max_customers = max_customers
        self.clock = clock
        self._rows: OrderedDict[str, dict[str, Transaction]] = OrderedDict()
        self._since: dict[str, datetime] = {}
        self._loaded_at: dict[str, float] = {}

    def begin_batch(self) -> None:
        """Forget customers loaded more than ``max_age_s`` ago."""
        now = self.clock()
        for customer_id in [c for c, at in self._loaded_at.items() if now - at > self.max_age_s]:
            self._forget(customer_id)

    def _forget(self, customer_id: str) -> None:
        self._rows.pop(customer_id, None)
        self._since.pop(customer_id, None)
        self._loaded_at.pop(customer_id, None)

    def observe(self, txn: Transaction) -> None:
        """A payment the stream just wrote: visible to the next scoring in this batch."""
        rows = self._rows.get(txn.customer_id)
        if rows is not None:
            rows[txn.txn_id] = txn

    def window(self, customer_id: str, since: datetime, until: datetime) -> tuple[Transaction, ...]:
        """The customer's payments with ``since <= occurred_at <= until`` (any order, as scoring allows)."""
        if customer_id not in self._rows or since < self._since[customer_id]:
            loaded = self.store.transactions.list_for_customer(customer_id, since=since)
            self._rows[customer_id] = {t.txn_id: t for t in loaded}
            self._since[customer_id] = since
            self._loaded_at[customer_id] = self.clock()
            while len(self._rows) > self.max_customers:
                self._forget(next(iter(self._rows)))
        self._rows.move_to_end(customer_id)
        return tuple(t for t in self._rows[customer_id].values() if since <= t.occurred_at <= until)
