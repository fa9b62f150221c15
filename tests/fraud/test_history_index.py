"""The indexed history gives the rules exactly the facts a plain walk over the payments gives.

The reference below is the features loop the rules ran before the index (one pass over every
payment of the window): the index must agree with it on any history, in any order, after any
rewrite of a payment (a settlement's amount, a decline, an earlier authorisation's time).
"""
from __future__ import annotations

import statistics
from datetime import datetime, timedelta, timezone

from hypothesis import example, given, strategies as st

from chalicelib.core.models import Transaction, TxnStatus
from chalicelib.fraud.history import HistoryCache, HistoryIndex, HistoryWindow
from chalicelib.fraud.scoring import HIGH_RISK_MCCS, RulesEngine, ScoringContext

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


def reference_features(rules: RulesEngine, txn: Transaction, history) -> dict[str, float]:
    at, card = txn.occurred_at, txn.card_id
    spend, countries, mccs, past, recent = [], set(), set(), 0, 0
    for t in history:
        if t.txn_id == txn.txn_id or t.occurred_at > at:
            continue
        past += 1
        countries.add(t.country)
        mccs.add(t.mcc)
        if t.amount_minor > 0 and t.status is not TxnStatus.declined:
            spend.append(t.amount_minor)
        if t.card_id == card and at - t.occurred_at <= rules.velocity_window:
            recent += 1
    usual = statistics.median(spend) if spend else 0.0
    return {
        "amount_minor": float(txn.amount_minor), "history_n": float(len(spend)), "usual_minor": float(usual),
        "max_minor": float(max(spend) if spend else 0), "amount_ratio": txn.amount_minor / usual if usual else 0.0,
        "new_country": float(bool(past) and txn.country not in countries), "new_mcc": float(txn.mcc not in mccs),
        "high_risk_mcc": float(txn.mcc in HIGH_RISK_MCCS), "card_not_present": float(txn.channel == "ecommerce"),
        "velocity_n": float(recent + 1),
    }


def txn(i: int, minutes: int, amount: int, *, card="c1", country="GB", mcc="5411",
        status=TxnStatus.posted, channel="card_present") -> Transaction:
    return Transaction(txn_id=f"txn-{i}", customer_id="cust-1", card_id=card, card_last4="4242",
                       descriptor="SHOP", merchant_name="Shop", mcc=mcc, amount_minor=amount, status=status,
                       occurred_at=T0 + timedelta(minutes=minutes), country=country, channel=channel)


payments = st.builds(
    lambda i, minutes, amount, card, country, mcc, status, channel: txn(
        i, minutes, amount, card=card, country=country, mcc=mcc, status=status, channel=channel),
    st.integers(0, 30),  # few ids: rewrites of one payment happen often
    st.integers(-200, 200),  # minutes around T0: ties, and payments after the one judged
    st.sampled_from([-5000, 0, 1, 999, 1000, 25_000, 250_000]),
    st.sampled_from(["c1", "c2"]), st.sampled_from(["GB", "FR", "RO"]), st.sampled_from(["5411", "6051", "5812"]),
    st.sampled_from(list(TxnStatus)), st.sampled_from(["card_present", "ecommerce"]))


@given(st.lists(payments, max_size=40), payments, st.sampled_from([None, -120, 0]))
# The judged payment indexed at an older time than it is judged at (outside the velocity window),
# and another payment at the very same minute as the judged one (counted: "up to its time").
@example([txn(1, -30, 1000)], txn(1, 0, 1000), None)
@example([txn(2, 0, 1000), txn(3, -120, 7000, country="FR")], txn(1, 0, 500), -120)
def test_the_index_agrees_with_a_walk_over_the_payments(writes, judged, since_min):
    """Given payments written in any order, some rewritten (the last version of each stands), and a
    payment to judge (perhaps one of them) / When the rules take its features from the indexed window
    and from a plain walk over the same window / Then every feature is the same."""
    rules = RulesEngine()
    index = HistoryIndex()
    for w in writes:
        index.put(w)
    since = None if since_min is None else T0 + timedelta(minutes=since_min)
    window = index.window(since, judged.occurred_at)
    latest = {w.txn_id: w for w in writes}.values()
    in_window = [t for t in latest if (since is None or t.occurred_at >= since) and t.occurred_at <= judged.occurred_at]
    assert sorted(t.txn_id for t in window) == sorted(t.txn_id for t in in_window)
    assert rules.features(ScoringContext(judged, window)) == reference_features(rules, judged, in_window)


@given(st.lists(payments, max_size=30), payments)
def test_a_plain_tuple_of_payments_is_judged_the_same(history, judged):
    """Given a plain tuple of distinct payments (tests, model adapters) / When the rules score it /
    Then the features equal the walk's."""
    history = tuple({t.txn_id: t for t in history}.values())
    rules = RulesEngine()
    assert rules.features(ScoringContext(judged, history)) == reference_features(rules, judged, history)


def test_a_payment_the_stream_writes_moves_to_its_place_in_the_cache():
    """Given a customer's history in the cache / When the stream writes a new payment, then declines it,
    then learns it began earlier / Then each window the rules read shows the latest version, once."""

    class Store:
        class transactions:  # noqa: N801 - the store's attribute name
            @staticmethod
            def list_for_customer(customer_id, since=None):
                return [txn(1, -60, 1000), txn(2, -30, 2000)]

    cache = HistoryCache(Store())
    since, until = T0 - timedelta(days=90), T0 + timedelta(hours=1)
    assert [t.txn_id for t in cache.window("cust-1", since, until)] == ["txn-1", "txn-2"]
    cache.observe(txn(3, 10, 5000))
    cache.observe(txn(3, 10, 5000, status=TxnStatus.declined))
    window = cache.window("cust-1", since, until)
    assert [(t.txn_id, t.status) for t in window] == [("txn-1", TxnStatus.posted), ("txn-2", TxnStatus.posted),
                                                       ("txn-3", TxnStatus.declined)]
    cache.observe(txn(3, -45, 5000, status=TxnStatus.declined))
    window = cache.window("cust-1", since, until)
    assert [t.txn_id for t in window] == ["txn-1", "txn-3", "txn-2"]
    facts = window.before(txn(9, 0, 100), T0 - timedelta(minutes=40))
    # txn-3 (declined) is no spend; only txn-2 is on the card within the last 40 minutes
    assert facts.past == 3 and facts.spend == [1000, 2000] and facts.recent_on_card == 1
    assert isinstance(window, HistoryWindow) and len(window) == 3
