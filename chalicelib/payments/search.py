"""The one payment search: which of a customer's payments a complaint is about.

Chat ("the $42.99 one from Amazon yesterday") and email (a forwarded complaint naming an amount,
a merchant and a date) ask the same question, so they share one scorer, one amount tolerance, one
merchant threshold and one look-back window, configured once in settings. Two searches that had
drifted apart (1% tolerance, fuzzy merchants, 180 days in chat; exact amounts, substrings, 400 days
in email) could link the same complaint to different payments.

A query's given parts must all hold (amount within tolerance, merchant score at least the
threshold, day within the span give or take the slack, same card, same currency); the score then
orders the survivors, best first and, on a tie, the most recent first.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Iterable, Sequence

from chalicelib.core.models import Transaction, TxnStatus
from chalicelib.payments.categories import Category, find_category
from chalicelib.payments.merchants import merchant_match_score

__all__ = ["SearchConfig", "PaymentQuery", "score_payment", "rank_payments", "search_payments",
           "find_payment_for_mentions"]


APPROX_SHARE = 0.1  # "about 200 bucks" fits 180 to 220


@dataclass(frozen=True)
class SearchConfig:
    """How loosely a mention may match a payment (``DA_PAYMENT_SEARCH_*`` settings)."""

    window_days: int = 180
    amount_tolerance: float = 0.01  # fraction of the amount; at least one minor unit
    min_merchant_score: float = 0.6
    date_slack_days: int = 1

    def __post_init__(self) -> None:
        if self.window_days < 1:
            raise ValueError(f"window_days must be at least 1, got {self.window_days}")
        if not 0 <= self.amount_tolerance < 1:
            raise ValueError(f"amount_tolerance must be in [0, 1), got {self.amount_tolerance}")
        if not 0 < self.min_merchant_score <= 1:
            raise ValueError(f"min_merchant_score must be in (0, 1], got {self.min_merchant_score}")
        if self.date_slack_days < 0:
            raise ValueError(f"date_slack_days must not be negative, got {self.date_slack_days}")

    @classmethod
    def from_settings(cls, settings: Any) -> SearchConfig:
        return cls(window_days=settings.payment_search_window_days,
                   amount_tolerance=settings.payment_search_amount_tolerance,
                   min_merchant_score=settings.payment_search_min_merchant_score)


@dataclass(frozen=True)
class PaymentQuery:
    """What a customer said about a payment; every part is optional."""

    merchant: str | None = None
    amount_minor: int | None = None
    currency: str | None = None
    date_from: date | None = None
    date_to: date | None = None  # the same day as date_from for a one-day mention
    last4: str | None = None
    category: Category | None = None  # the kind of merchant ("the gas station"), matched by MCC
    # How the amount was said: "whole" ("50 dollars" for $50.81: the cents left out, within one unit),
    # "about" ("about 200 bucks": within a tenth); None: as exact as the tolerance allows.
    amount_approx: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.merchant or self.amount_minor or self.date_from or self.last4 or self.category)

    def grounded(self) -> PaymentQuery:
        """The query with a kind of merchant in its words read as a category: "shell gas station" is
        Shell among fuel stations, "the coffee place" any coffee shop."""
        if self.category is not None or not self.merchant:
            return self
        found = find_category(self.merchant)
        if found is None:
            return self
        category, rest = found
        rest = " ".join(w for w in rest.split() if w not in {"the", "a", "an", "my", "that", "this", "one"})
        return PaymentQuery(merchant=rest or None, amount_minor=self.amount_minor, currency=self.currency,
                            date_from=self.date_from, date_to=self.date_to, last4=self.last4, category=category,
                            amount_approx=self.amount_approx)


def _day_distance(day: date, lo: date, hi: date) -> int:
    if day < lo:
        return (lo - day).days
    if day > hi:
        return (day - hi).days
    return 0


def score_payment(t: Transaction, q: PaymentQuery, config: SearchConfig) -> float | None:
    """How well ``t`` fits ``q`` (higher is better), or None when a given part does not hold."""
    score = 1.0
    if q.amount_minor is not None:
        diff = abs(abs(t.amount_minor) - q.amount_minor)
        allowed = max(1, math.floor(q.amount_minor * config.amount_tolerance + 1e-9))
        if q.amount_approx == "whole":
            allowed = max(allowed, 99)
        elif q.amount_approx == "about":
            allowed = max(allowed, math.floor(q.amount_minor * APPROX_SHARE))
        if diff > allowed:
            return None
        score += 1.0 - diff / max(q.amount_minor, 1)
    if q.currency and q.currency.upper() != t.currency.upper():
        return None
    if q.date_from is not None:
        delta = _day_distance(t.occurred_at.date(), q.date_from, q.date_to or q.date_from)
        if delta > config.date_slack_days:
            return None
        score += 1.0 - 0.5 * delta
    if q.last4 and t.card_last4 != q.last4:
        return None
    if q.category is not None:
        # With a name as well ("the mcdonalds restaurant"), the name decides and the kind only helps:
        # customers' words for a kind are looser than the card network's codes.
        if q.category.covers(t):
            score += 1.0
        elif not q.merchant:
            return None
    if q.merchant:
        m = merchant_match_score(q.merchant, t.descriptor, t.merchant_name)
        if m < config.min_merchant_score:
            return None
        score += 2 * m
    return score


def rank_payments(txns: Iterable[Transaction], q: PaymentQuery, config: SearchConfig,
                  statuses: set[TxnStatus] | None = None) -> list[Transaction]:
    """The payments that fit ``q``, best first (a tie goes to the most recent)."""
    q = q.grounded()
    scored: list[tuple[float, Transaction]] = []
    for t in txns:
        if statuses and t.status not in statuses:
            continue
        s = score_payment(t, q, config)
        if s is not None:
            scored.append((s, t))
    scored.sort(key=lambda st: (-st[0], -st[1].occurred_at.timestamp()))
    if scored and q.merchant and q.amount_minor is None and q.date_from is None:
        # A name alone matches every coffee ever bought: keep the best-scoring merchant only.
        best = scored[0][0]
        scored = [st for st in scored if st[0] >= best - 0.15]
    return [t for _, t in scored]


def window_payments(transactions: Any, customer_id: str, now: datetime, config: SearchConfig) -> list[Transaction]:
    """The customer's payments inside the look-back window (up to a day ahead: clocks differ)."""
    return transactions.list_for_customer(customer_id, since=now - timedelta(days=config.window_days),
                                          until=now + timedelta(days=1))


def search_payments(transactions: Any, customer_id: str, now: datetime, q: PaymentQuery, config: SearchConfig,
                    statuses: set[TxnStatus] | None = None) -> list[Transaction]:
    """``rank_payments`` over the customer's payments in the window (``transactions`` is the store's
    transaction repository)."""
    if not customer_id:
        raise ValueError("a payment search needs a customer id")
    return rank_payments(window_payments(transactions, customer_id, now, config), q, config, statuses)


def find_payment_for_mentions(txns: Sequence[Transaction], amounts: Sequence[tuple[int, str | None]],
                              merchants: Sequence[str], spans: Sequence[tuple[date, date]],
                              config: SearchConfig, *, duplicate_claim: bool = False) -> Transaction | None:
    """The one payment a message's mentions point at, or None.

    A free-text message names amounts, merchants and dates without saying which belong together:
    a payment counts when it fits a mentioned amount and either a mentioned merchant or a
    mentioned date. More than one payment fitting links nothing (a wrong link is worse than none),
    except for a ``duplicate_claim`` ("charged twice"): when every fitting payment is the same
    charge (card, descriptor, amount, currency), they are the duplicates the message is about, and
    the latest is the one disputed (card networks dispute the duplicate, not the original).
    """
    hits: dict[str, Transaction] = {}
    for minor, currency in amounts:
        queries = [PaymentQuery(merchant=m, amount_minor=minor, currency=currency) for m in merchants if m]
        queries += [PaymentQuery(amount_minor=minor, currency=currency, date_from=lo, date_to=hi) for lo, hi in spans]
        for q in queries:
            for t in rank_payments(txns, q, config):
                hits.setdefault(t.txn_id, t)
    if duplicate_claim and len(hits) > 1 and len({(t.card_id, t.descriptor, t.amount_minor, t.currency)
                                                  for t in hits.values()}) == 1:
        return max(hits.values(), key=lambda t: (t.occurred_at, t.txn_id))
    return next(iter(hits.values())) if len(hits) == 1 else None
