"""The customers' recent payments, read once per batch and indexed by time for the rules.

Why a cache: the rules judge a payment against the customer's own last 90 days, and loading (and
validating) that history for every authorisation was the largest cost left once the batch became
one transaction: an active customer has hundreds of rows, and one batch carries many of their
events. Within a batch the history is kept in memory and every payment the stream writes is
folded in, so a later event of the same batch still sees the earlier ones (velocity needs that).
Across batches a customer's rows are kept for ``max_age_s`` (and at most ``max_customers``, least
recently used out first): consecutive batches of one shard carry the same customers, and the
stream is the only writer of a payment's amount, place and merchant. Another writer (the chat
releasing a hold) changes a status at most ``max_age_s`` before the rules see it.

Why an index: even in memory, filtering the rows into a window and walking them for the features
cost a quarter of the stream's time. :class:`HistoryIndex` keeps one customer's payments sorted by
time in parallel columns (card, country, MCC, spend), so a window is two bisections and each
feature a slice, a count or a sort done in C (:class:`HistoryWindow`); a written payment moves to
its place in the columns. The rules read the same facts either way (a plain tuple of payments is
indexed on the spot), and a test holds the index to the straightforward scan on random histories.
"""
from __future__ import annotations

import time
from bisect import bisect_left, bisect_right, insort
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable, Iterator

from chalicelib.core.models import Transaction, TxnStatus


def spend_of(txn: Transaction) -> int:
    """What a payment says about the customer's usual spend: its amount, or 0 for a credit or a decline."""
    return txn.amount_minor if txn.amount_minor > 0 and txn.status is not TxnStatus.declined else 0


class HistoryIndex:
    """One customer's payments (one version per ``txn_id``) in ``(occurred_at, txn_id)`` order."""

    def __init__(self, txns: Iterable[Transaction] = ()):
        self.rows: dict[str, Transaction] = {}
        self.keys: list[tuple[datetime, str]] = []
        self.times: list[datetime] = []
        self.cards: list[str] = []
        self.countries: list[str] = []
        self.mccs: list[str] = []
        self.spends: list[int] = []
        for txn in sorted({t.txn_id: t for t in txns}.values(), key=lambda t: (t.occurred_at, t.txn_id)):
            self._insert_at(len(self.keys), txn)

    def __len__(self) -> int:
        return len(self.keys)

    def put(self, txn: Transaction) -> None:
        """Add a payment, or replace the version of it already indexed."""
        old = self.rows.get(txn.txn_id)
        if old is not None:
            i = self.position(txn.txn_id)
            for column in (self.keys, self.times, self.cards, self.countries, self.mccs, self.spends):
                del column[i]
        key = (txn.occurred_at, txn.txn_id)
        self._insert_at(bisect_left(self.keys, key), txn)

    def _insert_at(self, i: int, txn: Transaction) -> None:
        self.rows[txn.txn_id] = txn
        self.keys.insert(i, (txn.occurred_at, txn.txn_id))
        self.times.insert(i, txn.occurred_at)
        self.cards.insert(i, txn.card_id)
        self.countries.insert(i, txn.country)
        self.mccs.insert(i, txn.mcc)
        self.spends.insert(i, spend_of(txn))

    def position(self, txn_id: str) -> int | None:
        txn = self.rows.get(txn_id)
        return None if txn is None else bisect_left(self.keys, (txn.occurred_at, txn_id))

    def window(self, since: datetime | None = None, until: datetime | None = None) -> "HistoryWindow":
        return HistoryWindow(self, since, until)


@dataclass(frozen=True)
class HistoryWindow:
    """The payments with ``since <= occurred_at <= until`` (an open bound is no bound): a view of
    the index, to be read before the next payment is written to it."""

    index: HistoryIndex
    since: datetime | None = None
    until: datetime | None = None

    @classmethod
    def of(cls, txns: Iterable[Transaction]) -> "HistoryWindow":
        """All of ``txns`` (a payment listed twice counts once, as its last version)."""
        return cls(HistoryIndex(txns))

    def bounds(self, until: datetime | None = None) -> tuple[int, int]:
        """Positions ``[lo, hi)`` of the window, cut at ``until`` too when given."""
        times = self.index.times
        lo = 0 if self.since is None else bisect_left(times, self.since)
        ends = [t for t in (self.until, until) if t is not None]
        hi = bisect_right(times, min(ends)) if ends else len(times)
        return lo, max(lo, hi)

    def __iter__(self) -> Iterator[Transaction]:
        lo, hi = self.bounds()
        rows = self.index.rows
        return iter([rows[k[1]] for k in self.index.keys[lo:hi]])

    def __len__(self) -> int:
        lo, hi = self.bounds()
        return hi - lo

    def before(self, txn: Transaction, recent_since: datetime) -> "PastFacts":
        """What the rules need of the payments in the window up to ``txn``'s time, ``txn`` itself
        left out: their count, whether one was in ``txn``'s country or MCC, the customer's spend
        (sorted), and how many were on ``txn``'s card since ``recent_since``."""
        ix = self.index
        lo, hi = self.bounds(txn.occurred_at)
        me = ix.position(txn.txn_id)
        if me is not None and not lo <= me < hi:
            me = None
        mine = 1 if me is not None else 0
        spends = ix.spends[lo:hi]
        if me is not None:
            del spends[me - lo]
        rlo = max(lo, bisect_left(ix.times, recent_since))
        recent = ix.cards[rlo:hi].count(txn.card_id)
        if me is not None and me >= rlo and ix.cards[me] == txn.card_id:
            recent -= 1
        same_country = ix.countries[lo:hi].count(txn.country) - (mine and ix.countries[me] == txn.country)
        same_mcc = ix.mccs[lo:hi].count(txn.mcc) - (mine and ix.mccs[me] == txn.mcc)
        return PastFacts(past=hi - lo - mine, seen_country=same_country > 0, seen_mcc=same_mcc > 0,
                         spend=sorted(filter(None, spends)), recent_on_card=recent)


@dataclass(frozen=True)
class PastFacts:
    past: int
    seen_country: bool
    seen_mcc: bool
    spend: list[int]  # ascending
    recent_on_card: int


class HistoryCache:
    def __init__(self, store, *, max_age_s: float = 60.0, max_customers: int = 5000,
                 clock: Callable[[], float] = time.monotonic):
        if max_age_s < 0 or max_customers < 1:
            raise ValueError("max_age_s must be >= 0 and max_customers >= 1")
        self.store = store
        self.max_age_s = max_age_s
        self.max_customers = max_customers
        self.clock = clock
        self._rows: OrderedDict[str, HistoryIndex] = OrderedDict()
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
        index = self._rows.get(txn.customer_id)
        if index is not None:
            index.put(txn)

    def window(self, customer_id: str, since: datetime, until: datetime) -> HistoryWindow:
        """The customer's payments with ``since <= occurred_at <= until``."""
        if customer_id not in self._rows or since < self._since[customer_id]:
            loaded = self.store.transactions.list_for_customer(customer_id, since=since)
            self._rows[customer_id] = HistoryIndex(loaded)
            self._since[customer_id] = since
            self._loaded_at[customer_id] = self.clock()
            while len(self._rows) > self.max_customers:
                self._forget(next(iter(self._rows)))
        self._rows.move_to_end(customer_id)
        return self._rows[customer_id].window(since, until)
