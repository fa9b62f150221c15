"""The demo data set: size, determinism, the fixed demo customers, and reason-code coverage.

Golden conversations and the README quote these records, so a change here is a visible change.
"""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta, timezone

import pytest

from chalicelib.demo.demo_data import ALLOWED_ACTIONS, RESERVED_LAST4, build, seed
from chalicelib.payments.fraud_codes import REASON_CODES
from chalicelib.payments.merchants import MCC_DESCRIPTIONS
from chalicelib.core.models import CardStatus, CaseState, FraudAction, TxnStatus
from chalicelib.storage.sqlite import SqliteStore

ANCHOR = date(2025, 6, 15)


@pytest.fixture(scope="module")
def data():
    return build(ANCHOR, seed=7)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    store = SqliteStore(tmp_path_factory.mktemp("demo") / "demo.db")
    store.create_schema()
    summary = seed(store, ANCHOR, seed=7)
    yield store, summary
    store.close()


def _days_ago(dt: datetime) -> int:
    return (ANCHOR - dt.date()).days


def test_sizes_meet_the_brief(data):
    """Given the default seed, When built, Then there are >= 50 customers, >= 5,000 transactions
    over 180 days, >= 30 fraud decisions and some cases in every state."""
    assert len(data.customers) >= 50
    assert len(data.transactions) >= 5000
    ages = [_days_ago(t.occurred_at) for t in data.transactions]
    assert min(ages) >= 0 and max(ages) <= 180 and max(ages) >= 170
    assert len(data.fraud_decisions) >= 30
    assert {c.state for c in data.cases} == set(CaseState)


def test_same_anchor_and_seed_give_identical_data():
    """Given the same anchor and seed, When built twice, Then every record is identical; a different
    seed gives different data."""
    a, b = build(ANCHOR, seed=7), build(ANCHOR, seed=7)
    for attr in ("customers", "cards", "transactions", "fraud_decisions", "cases"):
        assert [x.model_dump_json() for x in getattr(a, attr)] == [x.model_dump_json() for x in getattr(b, attr)]
    other = build(ANCHOR, seed=8)
    assert [t.model_dump_json() for t in other.transactions] != [t.model_dump_json() for t in a.transactions]


def test_dates_move_with_the_anchor():
    """Given two anchors a week apart, When built, Then Alice's hold is one day before each anchor."""
    for anchor in (ANCHOR, ANCHOR + timedelta(days=7)):
        hold = next(t for t in build(anchor).transactions if t.txn_id == "txn-alice-hold")
        assert hold.occurred_at.date() == anchor - timedelta(days=1)


def test_ids_are_unique_and_data_references_resolve(data):
    """Given the data set, When cross-checked, Then ids are unique and every card, transaction and
    case points at records of the same customer."""
    txn_ids = [t.txn_id for t in data.transactions]
    assert len(txn_ids) == len(set(txn_ids))
    assert len({c.case_id for c in data.cases}) == len(data.cases)
    cards = {c.card_id: c for c in data.cards}
    txns = {t.txn_id: t for t in data.transactions}
    customers = {c.customer_id for c in data.customers}
    for t in data.transactions:
        assert cards[t.card_id].customer_id == t.customer_id and cards[t.card_id].last4 == t.card_last4
        assert t.mcc in MCC_DESCRIPTIONS
        assert t.occurred_at.tzinfo is timezone.utc
        assert (t.posted_at is None) == (t.status is not TxnStatus.posted and t.status is not TxnStatus.reversed)
    for d in data.fraud_decisions:
        assert txns[d.txn_id].customer_id == d.customer_id in customers
    for c in data.cases:
        assert txns[c.txn_id].customer_id == c.customer_id
        assert c.history and c.history[-1].state is c.state and c.updated_at == c.history[-1].at
    assert Counter((c.customer_id, c.txn_id) for c in data.cases).most_common(1)[0][1] == 1


def test_every_reason_code_is_covered_with_consistent_actions(data):
    """Given the fraud decisions, When checked against the catalogue, Then every code appears, each
    action is allowed for its codes, release requirements come from the catalogue, and the
    transaction's status matches the action."""
    codes = Counter(c for d in data.fraud_decisions for c in d.reason_codes)
    assert set(codes) == set(REASON_CODES)
    txns = {t.txn_id: t for t in data.transactions}
    for d in data.fraud_decisions:
        for code in d.reason_codes:
            assert d.action in ALLOWED_ACTIONS[code]
        assert set(d.release_requirements) == {REASON_CODES[c].release for c in d.reason_codes}
        expected = {
            FraudAction.decline: {TxnStatus.declined},
            FraudAction.review: {TxnStatus.pending},
            FraudAction.hold: {TxnStatus.posted} if d.released else {TxnStatus.pending},
        }[d.action]
        assert txns[d.txn_id].status in expected


def test_frozen_cards_have_nothing_after_the_freeze(data):
    """Given a CARD_FROZEN decline, When its card's later transactions are listed, Then there are none
    and the card is frozen."""
    frozen = [d for d in data.fraud_decisions if "CARD_FROZEN" in d.reason_codes]
    assert frozen
    txns = {t.txn_id: t for t in data.transactions}
    cards = {c.card_id: c for c in data.cards}
    for d in frozen:
        declined = txns[d.txn_id]
        assert cards[declined.card_id].status is CardStatus.frozen
        assert not [t for t in data.transactions if t.card_id == declined.card_id and t.occurred_at > declined.occurred_at]


def test_reserved_last4_belong_only_to_demo_customers(data):
    """Given all cards, When filtered by the demo last-4s, Then only demo-alice and demo-bob hold them
    (step-up verification must find exactly them)."""
    holders = {(c.last4, c.customer_id) for c in data.cards if c.last4 in RESERVED_LAST4}
    assert holders == {("4242", "demo-alice"), ("7781", "demo-alice"), ("5454", "demo-bob")}


def test_alice_fixed_records(seeded):
    """Given the seeded store, When Alice's records are read, Then they are exactly the documented ones."""
    store, _ = seeded
    alice = store.customers.get("demo-alice")
    assert (alice.name, alice.date_of_birth, alice.email, alice.phone) == (
        "Alice Martin", date(1988, 4, 12), "alice@example.com", "+1-555-0100")
    cards = {(c.card_id, c.last4, c.network, c.status) for c in store.cards.list_for_customer("demo-alice")}
    assert cards == {("card-alice-1", "4242", "visa", CardStatus.active),
                     ("card-alice-2", "7781", "mastercard", CardStatus.active)}

    def txn(tid):
        t = store.transactions.get("demo-alice", tid)
        return (t.descriptor, t.merchant_name, t.mcc, t.amount_minor, t.status, _days_ago(t.occurred_at), t.channel)

    assert txn("txn-alice-hold") == ("BESTBUY.COM 00012345", "Best Buy", "5732", 124900, TxnStatus.pending, 1,
                                     "ecommerce")
    assert txn("txn-alice-declined") == ("SHELL OIL 57442", "Shell", "5541", 6410, TxnStatus.declined, 2,
                                         "card_present")
    assert store.transactions.get("demo-alice", "txn-alice-declined").country == "MX"
    assert txn("txn-alice-unrec") == ("PAYPAL *XINGHUA88", "Xinghua88 (via PayPal)", "5999", 21450,
                                      TxnStatus.posted, 3, "ecommerce")
    assert txn("txn-alice-netflix") == ("NETFLIX.COM", "Netflix", "4899", 1549, TxnStatus.posted, 25, "recurring")
    assert txn("txn-alice-old") == ("DELTA AIR 0062345", "Delta Air Lines", "4511", 38920, TxnStatus.posted, 150,
                                    "ecommerce")
    assert txn("txn-alice-amzn") == ("AMZN MKTP US*2K4", "Amazon Marketplace", "5942", 4299, TxnStatus.posted, 1,
                                     "ecommerce")

    hold = store.fraud.get_for_transaction("demo-alice", "txn-alice-hold")
    assert (hold.decision_id, hold.action, hold.reason_codes, hold.release_requirements, hold.risk_score,
            hold.released) == ("fd-alice-hold", FraudAction.hold, ["UNUSUAL_AMOUNT"], ["step_up_verification"],
                               0.62, False)
    declined = store.fraud.get_for_transaction("demo-alice", "txn-alice-declined")
    assert (declined.decision_id, declined.action, declined.reason_codes) == (
        "fd-alice-declined", FraudAction.decline, ["FOREIGN_LOCATION"])

    case = store.cases.get("demo-alice", "DSP-ALICE1")
    assert (case.txn_id, case.reason.value, case.state, _days_ago(case.created_at), case.disputed_amount_minor) == (
        "txn-alice-netflix", "cancelled_subscription", CaseState.under_review, 20, 1549)
    assert [c.case_id for c in store.cases.list_for_customer("demo-alice")] == ["DSP-ALICE1"]
    assert {d.decision_id for d in store.fraud.list_for_customer("demo-alice")} == {"fd-alice-hold",
                                                                                   "fd-alice-declined"}


def test_bob_fixed_records(seeded):
    """Given the seeded store, When Bob's records are read, Then the duplicate pair is one minute apart
    and the Amazon payment is pending since yesterday."""
    store, _ = seeded
    bob = store.customers.get("demo-bob")
    assert (bob.name, bob.date_of_birth, bob.email, bob.phone) == (
        "Bob Okafor", date(1975, 11, 3), "bob@example.com", "+1-555-0101")
    assert [(c.card_id, c.last4, c.network) for c in store.cards.list_for_customer("demo-bob")] == [
        ("card-bob-1", "5454", "mastercard")]
    d1 = store.transactions.get("demo-bob", "txn-bob-dup-1")
    d2 = store.transactions.get("demo-bob", "txn-bob-dup-2")
    for t in (d1, d2):
        assert (t.descriptor, t.merchant_name, t.mcc, t.amount_minor, t.status, _days_ago(t.occurred_at)) == (
            "SQ *BLUE BOTTLE COFFEE", "Blue Bottle Coffee", "5814", 675, TxnStatus.posted, 2)
    assert d2.occurred_at - d1.occurred_at == timedelta(minutes=1)
    pending = store.transactions.get("demo-bob", "txn-bob-pending")
    assert (pending.descriptor, pending.merchant_name, pending.amount_minor, pending.status,
            _days_ago(pending.occurred_at)) == ("AMZN MKTP US*7Q1", "Amazon Marketplace", 5820, TxnStatus.pending, 1)
    assert store.cases.list_for_customer("demo-bob") == []


def test_demo_special_transactions_are_unambiguous(data):
    """Given the demo customers' background spending, When searched for the special merchants,
    Then only the special transactions come from those merchants and nothing else is recent."""
    special = {"txn-alice-hold", "txn-alice-declined", "txn-alice-unrec", "txn-alice-netflix", "txn-alice-old",
               "txn-alice-amzn", "txn-bob-dup-1", "txn-bob-dup-2", "txn-bob-pending"}
    for t in data.transactions:
        if t.customer_id in ("demo-alice", "demo-bob") and t.txn_id not in special:
            assert t.status is TxnStatus.posted
            assert _days_ago(t.occurred_at) >= 4
            assert not any(k in t.descriptor.upper() for k in ("AMZN", "AMAZON", "BESTBUY", "BEST BUY", "SHELL",
                                                               "PAYPAL", "NETFLIX", "DELTA", "BLUE BOTTLE"))


def test_seed_summary_matches_the_store_and_reseeding_is_harmless(seeded):
    """Given a seeded store, When seeded again without reset, Then counts are unchanged and the
    summary reports every reason code."""
    store, summary = seeded
    assert set(summary.reason_codes) == set(REASON_CODES)
    again = seed(store, ANCHOR, seed=7)
    assert again == summary
    assert len(store.customers.list_ids()) == summary.customers
    total = sum(len(store.transactions.list_for_customer(cid)) for cid in store.customers.list_ids())
    assert total == summary.transactions
    assert sum(len(store.cases.list_for_customer(cid)) for cid in store.customers.list_ids()) == summary.cases
