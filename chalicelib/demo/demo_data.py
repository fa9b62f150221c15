"""Deterministic demo data: ``python -m chalicelib.demo.demo_data --reset`` seeds the configured store.

Why deterministic and anchored: golden conversations, demos and the README say things like
"Alice's $1,249.00 Best Buy payment from yesterday is on hold". Every date is relative to an
anchor day (default: today, UTC) and every random choice comes from one seeded generator, so the
same anchor and seed always give byte-identical data, and "yesterday" is always yesterday.

Two customers are fixed (ids, names, cards, special transactions, decisions, case): ``demo-alice``
and ``demo-bob``. Everyone else (``cust-0001`` ...) is generated from the merchant directory.
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import date

from chalicelib.core.models import Transaction, TxnStatus
from chalicelib.demo.fixed_customers import demo_customers
from chalicelib.demo.generator import DemoGenerator
from chalicelib.demo.records import (
    DEFAULT_SEED,
    RESERVED_LAST4,
    ALLOWED_ACTIONS,
    DEMO_EXCLUDED,
    DemoData,
    SeedSummary,
    default_anchor,
    DemoClock,
)
from chalicelib.storage.base import AlreadyExists

__all__ = ["ALLOWED_ACTIONS", "DEFAULT_SEED", "RESERVED_LAST4", "DemoClock", "DemoData", "SeedSummary", "build",
           "demo_customers", "main", "seed", "summarise"]


def build(anchor: date | None = None, seed: int = DEFAULT_SEED) -> DemoData:
    """The whole demo data set, in memory (no store): same anchor and seed, same data."""
    anchor = anchor or default_anchor()
    g = DemoGenerator(anchor, seed)
    demo = demo_customers(g.clock)
    g.data.customers += demo.customers
    g.data.cards += demo.cards
    g.data.transactions += demo.transactions
    g.data.fraud_decisions += demo.fraud_decisions
    g.data.cases += demo.cases
    # The demo customers' everyday spending: at least four days old, all posted, and never at the
    # merchants of their special transactions, so each special one is unambiguous.
    for prefix, cards in (("alice", [c for c in demo.cards if c.customer_id == "demo-alice"]),
                          ("bob", [c for c in demo.cards if c.customer_id == "demo-bob"])):
        g.data.transactions += g.spending(prefix, cards, 45, min_days_ago=4, exclude=DEMO_EXCLUDED, posted_only=True)

    owners = g.customers()
    txns_by_card: dict[str, list[Transaction]] = {}
    for customer, cards in owners:
        g.data.customers.append(customer)
        g.data.cards += cards
        n = g.rng.randint(70, 100)
        for t in g.spending(customer.customer_id.removeprefix("cust-"), cards, n):
            txns_by_card.setdefault(t.card_id, []).append(t)
    g.fraud(owners, txns_by_card)
    background = [t for ts in txns_by_card.values() for t in ts]
    g.data.transactions += background
    g.cases([t for t in background if t.status is TxnStatus.posted and t.amount_minor > 0])
    g.data.transactions.sort(key=lambda t: (t.customer_id, t.occurred_at, t.txn_id))
    return g.data


def summarise(data: DemoData, anchor: date, seed: int) -> SeedSummary:
    codes = sorted({c for d in data.fraud_decisions for c in d.reason_codes})
    return SeedSummary(
        anchor=anchor,
        seed=seed,
        customers=len(data.customers),
        cards=len(data.cards),
        transactions=len(data.transactions),
        fraud_decisions=len(data.fraud_decisions),
        cases=len(data.cases),
        reason_codes=tuple(codes),
    )


def seed(store, anchor: date | None = None, seed: int = DEFAULT_SEED) -> SeedSummary:
    """Write the demo data into ``store`` (any Store). Re-running without a reset is harmless:
    records are overwritten with identical ones and existing cases are left as they are."""
    anchor = anchor or default_anchor()
    data = build(anchor, seed)
    for c in data.customers:
        store.customers.put(c)
    for card in data.cards:
        store.cards.put(card)
    for i in range(0, len(data.transactions), 500):
        store.transactions.put_many(data.transactions[i : i + 500])
    for d in data.fraud_decisions:
        store.fraud.put(d)
    for case in data.cases:
        try:
            store.cases.create(case)
        except AlreadyExists:
            pass
    return summarise(data, anchor, seed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.demo.demo_data", description=__doc__.splitlines()[0])
    parser.add_argument("--reset", action="store_true",
                        help="empty the store first, and what the services remember of it (chalicelib/demo/reset.py)")
    parser.add_argument("--anchor", type=date.fromisoformat, default=None, help="anchor day (default: today, UTC)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--create-schema", action="store_true", help="create missing tables (DynamoDB Local)")
    args = parser.parse_args(argv)

    from chalicelib.storage.factory import get_store

    store = get_store()
    if args.create_schema:
        store.create_schema()
    if args.reset:
        reset = getattr(store, "reset", None)
        if reset is None:
            print("this store cannot be reset", file=sys.stderr)
            return 2
        reset()
        from chalicelib.core.settings import get_settings
        from chalicelib.demo.reset import reset_run_state

        for note in reset_run_state(get_settings()):
            print(note, file=sys.stderr)
    summary = seed(store, args.anchor, args.seed)
    print(json.dumps(summary.as_dict()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
