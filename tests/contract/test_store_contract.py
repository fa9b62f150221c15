"""The storage contract: the same behaviour from the SQLite and the DynamoDB store.

Every test runs twice (see conftest: ``store`` is parametrised). Handlers code against the Store
protocol only, so any difference between backends would be a bug that shows up only in AWS.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from chalicelib.core.models import (
    Card,
    CardStatus,
    CaseEvent,
    CaseState,
    Customer,
    DisputeCase,
    DisputeReason,
    FraudAction,
    FraudDecision,
    Handoff,
    Transaction,
    TxnStatus,
    VerificationState,
)
from chalicelib.storage.base import AlreadyExists, InvalidTransition, NotFound
from tests.support.races import race

T0 = datetime(2025, 3, 1, 12, 30, 15, 123456, tzinfo=timezone.utc)


def customer(cid: str = "c-1", **kw) -> Customer:
    base = dict(
        customer_id=cid,
        name="Ada Lovelace",
        email=f"{cid}@example.com",
        phone="+1-555-0199",
        date_of_birth=date(1990, 12, 10),
        vulnerable=False,
        created_at=T0,
    )
    base.update(kw)
    return Customer(**base)


def card(card_id: str = "k-1", cid: str = "c-1", last4: str = "1234", **kw) -> Card:
    return Card(card_id=card_id, customer_id=cid, last4=last4, **kw)


def txn(txn_id: str = "t-1", cid: str = "c-1", at: datetime = T0, **kw) -> Transaction:
    base = dict(
        txn_id=txn_id,
        customer_id=cid,
        card_id="k-1",
        card_last4="1234",
        descriptor="SQ *BLUE BOTTLE COFFEE",
        merchant_name="Blue Bottle Coffee",
        mcc="5814",
        amount_minor=675,
        status=TxnStatus.posted,
        occurred_at=at,
        posted_at=at + timedelta(hours=20),
    )
    base.update(kw)
    return Transaction(**base)


def decision(did: str = "fd-1", cid: str = "c-1", txn_id: str = "t-1", at: datetime = T0, **kw) -> FraudDecision:
    base = dict(
        decision_id=did,
        customer_id=cid,
        txn_id=txn_id,
        action=FraudAction.hold,
        risk_score=0.62,
        reason_codes=["UNUSUAL_AMOUNT"],
        model_version="fraud-gbm-2025.02",
        release_requirements=["step_up_verification"],
        created_at=at,
    )
    base.update(kw)
    return FraudDecision(**base)


def case(case_id: str = "DSP-AAA111", cid: str = "c-1", txn_id: str = "t-1", at: datetime = T0, **kw) -> DisputeCase:
    base = dict(
        case_id=case_id,
        customer_id=cid,
        txn_id=txn_id,
        reason=DisputeReason.unauthorised,
        disputed_amount_minor=21450,
        created_at=at,
        updated_at=at,
    )
    base.update(kw)
    return DisputeCase(**base)


def handoff(hid: str = "HND-1", session: str = "s-1", at: datetime = T0, **kw) -> Handoff:
    base = dict(
        handoff_id=hid,
        customer_id="c-1",
        session_id=session,
        reason="customer_request",
        summary="Customer asks for a person about a held payment.",
        context={"intent": "ExplainHold", "txn_id": "t-1", "turns": 4, "scores": [0.4, 0.9]},
        created_at=at,
    )
    base.update(kw)
    return Handoff(**base)


# --- schema -------------------------------------------------------------------------------------


def test_create_schema_is_idempotent(store):
    """Given a store with data, When create_schema runs again, Then nothing fails and data stays."""
    store.customers.put(customer())
    store.create_schema()
    assert store.customers.get("c-1") == customer()


# --- customers ----------------------------------------------------------------------------------


def test_customer_round_trip_preserves_every_field(store):
    """Given a customer with a date, an aware datetime and a flag, When stored and read back,
    Then it is equal field for field and its datetime is still UTC-aware."""
    c = customer(vulnerable=True)
    store.customers.put(c)
    got = store.customers.get("c-1")
    assert got == c
    assert got.created_at.tzinfo is not None and got.created_at.utcoffset() == timedelta(0)
    assert got.date_of_birth == date(1990, 12, 10)


def test_customer_put_replaces_get_missing_list_and_delete(store):
    """Given two customers, When one is updated and another deleted, Then reads reflect both
    and an unknown id reads as None."""
    store.customers.put(customer("c-2"))
    store.customers.put(customer("c-1"))
    store.customers.put(customer("c-1", name="Ada King"))
    assert store.customers.get("c-1").name == "Ada King"
    assert store.customers.list_ids() == ["c-1", "c-2"]
    store.customers.delete("c-2")
    assert store.customers.get("c-2") is None
    assert store.customers.get("nobody") is None
    assert store.customers.list_ids() == ["c-1"]


# --- cards --------------------------------------------------------------------------------------


def test_cards_listed_per_customer_with_enums_intact(store):
    """Given cards of two customers, When one customer's cards are listed, Then only theirs come
    back, with network and status enum preserved."""
    store.cards.put(card("k-1", "c-1", "1234", network="visa"))
    store.cards.put(card("k-2", "c-1", "9876", network="mastercard", status=CardStatus.frozen))
    store.cards.put(card("k-3", "c-2", "5555"))
    mine = store.cards.list_for_customer("c-1")
    assert [c.card_id for c in mine] == ["k-1", "k-2"]
    assert mine[1].status is CardStatus.frozen and mine[1].network == "mastercard"
    assert store.cards.list_for_customer("c-3") == []


def test_find_by_last4_spans_customers_and_only_that_last4(store):
    """Given two customers with a card ending 4242 and one ending 4243, When step-up looks up
    4242, Then both 4242 cards come back and nothing else."""
    store.cards.put(card("k-1", "c-1", "4242"))
    store.cards.put(card("k-2", "c-2", "4242"))
    store.cards.put(card("k-3", "c-2", "4243"))
    found = store.cards.find_by_last4("4242")
    assert sorted((c.customer_id, c.card_id) for c in found) == [("c-1", "k-1"), ("c-2", "k-2")]
    assert store.cards.find_by_last4("0000") == []


def test_card_put_replaces_status(store):
    """Given an active card, When it is stored again frozen, Then one card remains, frozen."""
    store.cards.put(card())
    store.cards.put(card(status=CardStatus.frozen))
    cards = store.cards.list_for_customer("c-1")
    assert len(cards) == 1 and cards[0].status is CardStatus.frozen
    assert len(store.cards.find_by_last4("1234")) == 1


# --- transactions -------------------------------------------------------------------------------


def test_transaction_round_trip_preserves_every_field(store):
    """Given a refund in a foreign country with both timestamps, When stored and read, Then every
    field (negative amount, enum status, channel, UTC datetimes) is preserved."""
    t = txn(amount_minor=-1999, status=TxnStatus.reversed, country="MX", channel="ecommerce", currency="MXN")
    store.transactions.put(t)
    got = store.transactions.get("c-1", "t-1")
    assert got == t
    assert got.status is TxnStatus.reversed
    assert got.occurred_at.utcoffset() == timedelta(0) and got.posted_at.utcoffset() == timedelta(0)


def test_pending_transaction_without_posted_at_round_trips(store):
    """Given a pending transaction with no posted_at, When read back, Then posted_at is None."""
    store.transactions.put(txn(status=TxnStatus.pending, posted_at=None))
    got = store.transactions.get("c-1", "t-1")
    assert got.status is TxnStatus.pending and got.posted_at is None


def test_transaction_of_another_customer_is_not_found(store):
    """Given c-1's transaction, When c-2 asks for it by id, Then it is not found (isolation)."""
    store.transactions.put(txn("t-1", "c-1"))
    assert store.transactions.get("c-2", "t-1") is None
    assert store.transactions.list_for_customer("c-2") == []


def test_transactions_newest_first_and_bounds_inclusive(store):
    """Given five daily transactions, When listed with and without since/until, Then they come
    newest first and both bounds include a transaction exactly on them."""
    store.transactions.put_many([txn(f"t-{i}", at=T0 + timedelta(days=i)) for i in range(5)])
    store.transactions.put(txn("other", "c-2", at=T0 + timedelta(days=2)))
    assert [t.txn_id for t in store.transactions.list_for_customer("c-1")] == ["t-4", "t-3", "t-2", "t-1", "t-0"]
    since, until = T0 + timedelta(days=1), T0 + timedelta(days=3)
    assert [t.txn_id for t in store.transactions.list_for_customer("c-1", since=since, until=until)] == [
        "t-3",
        "t-2",
        "t-1",
    ]
    assert [t.txn_id for t in store.transactions.list_for_customer("c-1", since=since)] == ["t-4", "t-3", "t-2", "t-1"]
    assert [t.txn_id for t in store.transactions.list_for_customer("c-1", until=until)] == ["t-3", "t-2", "t-1", "t-0"]
    just_after = T0 + timedelta(days=3, microseconds=1)
    assert [t.txn_id for t in store.transactions.list_for_customer("c-1", since=just_after)] == ["t-4"]


def test_transaction_order_follows_the_instant_not_the_offset(store):
    """Given a transaction stamped +02:00 that happened before a UTC one with a later wall-clock
    hour, When listed, Then the order is by instant."""
    tz2 = timezone(timedelta(hours=2))
    early = txn("early", at=datetime(2025, 3, 1, 13, 0, tzinfo=tz2))  # 11:00 UTC
    late = txn("late", at=datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc))
    store.transactions.put_many([early, late])
    assert [t.txn_id for t in store.transactions.list_for_customer("c-1")] == ["late", "early"]
    assert store.transactions.get("c-1", "early") == early


def test_transaction_put_updates_in_place(store):
    """Given a pending transaction, When it posts (same id), Then one transaction is listed, posted."""
    store.transactions.put(txn(status=TxnStatus.pending, posted_at=None))
    store.transactions.put(txn(status=TxnStatus.posted))
    listed = store.transactions.list_for_customer("c-1")
    assert len(listed) == 1 and listed[0].status is TxnStatus.posted


def test_put_many_stores_more_than_one_batch(store):
    """Given 60 transactions (more than a DynamoDB batch of 25), When stored in one call, Then all
    60 are listed."""
    store.transactions.put_many([txn(f"t-{i:03d}", at=T0 + timedelta(minutes=i)) for i in range(60)])
    listed = store.transactions.list_for_customer("c-1")
    assert len(listed) == 60 and listed[0].txn_id == "t-059"


def test_concurrent_writers_lose_nothing(store):
    """Given four threads (as under chalice local), When each writes ten transactions, Then all
    forty are stored."""
    def work(n: int) -> None:
        for i in range(10):
            store.transactions.put(txn(f"t-{n}-{i}", at=T0 + timedelta(seconds=n * 10 + i)))

    assert race(4, work).raised == []
    assert len(store.transactions.list_for_customer("c-1")) == 40


# --- fraud decisions ----------------------------------------------------------------------------


def test_fraud_decision_round_trip_and_latest_for_transaction(store):
    """Given two decisions on one transaction (re-scored) and one on another, When asked for the
    transaction's decision, Then the latest comes back, with every field intact."""
    first = decision("fd-1", at=T0)
    second = decision(
        "fd-2",
        at=T0 + timedelta(minutes=5),
        action=FraudAction.decline,
        reason_codes=["FOREIGN_LOCATION", "VELOCITY"],
        release_requirements=["step_up_verification"],
        released=True,
        risk_score=0.91,
    )
    store.fraud.put(first)
    store.fraud.put(second)
    store.fraud.put(decision("fd-3", txn_id="t-10", at=T0 + timedelta(days=1)))
    got = store.fraud.get_for_transaction("c-1", "t-1")
    assert got == second and got.action is FraudAction.decline
    assert store.fraud.get_for_transaction("c-1", "t-nope") is None
    assert [d.decision_id for d in store.fraud.list_for_customer("c-1")] == ["fd-3", "fd-2", "fd-1"]


def test_fraud_decision_prefix_ids_do_not_collide(store):
    """Given decisions on t-1 and t-10, When asked for t-1, Then t-10's decision is not returned."""
    store.fraud.put(decision("fd-10", txn_id="t-10", at=T0 + timedelta(days=1)))
    assert store.fraud.get_for_transaction("c-1", "t-1") is None


def test_fraud_decision_of_another_customer_is_not_found(store):
    """Given c-1's decision, When c-2 asks for it, Then nothing comes back."""
    store.fraud.put(decision())
    assert store.fraud.get_for_transaction("c-2", "t-1") is None
    assert store.fraud.list_for_customer("c-2") == []


# --- dispute cases ------------------------------------------------------------------------------


def test_case_create_records_opening_event_and_round_trips(store):
    """Given a new case without history, When created, Then the stored case has its opening event
    and reads back equal, deadlines and enums included."""
    c = case(
        merchant_contacted=True,
        description="I never ordered this.",
        channel="email",
        provisional_credit_due=date(2025, 3, 11),
        decision_due=date(2025, 4, 15),
    )
    stored = store.cases.create(c)
    assert [(e.state, e.at) for e in stored.history] == [(CaseState.opened, T0)]
    got = store.cases.get("c-1", c.case_id)
    assert got == stored
    assert got.reason is DisputeReason.unauthorised and got.state is CaseState.opened
    assert got.history[0].at.utcoffset() == timedelta(0)


def test_case_create_keeps_given_history(store):
    """Given a case created with a history (demo data, migrations), When created, Then that
    history is stored as is."""
    history = [
        CaseEvent(at=T0, state=CaseState.opened, note="filed by email"),
        CaseEvent(at=T0 + timedelta(days=1), state=CaseState.under_review, note="sent to network"),
    ]
    stored = store.cases.create(case(state=CaseState.under_review, history=history))
    assert stored.history == history
    assert store.cases.get("c-1", "DSP-AAA111").history == history


def test_second_case_on_same_transaction_already_exists(store):
    """Given a case on t-1, When another case (new id, e.g. from the email channel) is created on
    t-1 for the same customer, Then AlreadyExists and the first case is unchanged."""
    first = store.cases.create(case("DSP-AAA111"))
    with pytest.raises(AlreadyExists):
        store.cases.create(case("DSP-BBB222", reason=DisputeReason.duplicate))
    assert store.cases.find_by_transaction("c-1", "t-1") == first
    assert [c.case_id for c in store.cases.list_for_customer("c-1")] == ["DSP-AAA111"]


def test_replayed_create_already_exists(store):
    """Given a created case, When the exact same create is replayed, Then AlreadyExists."""
    store.cases.create(case())
    with pytest.raises(AlreadyExists):
        store.cases.create(case())


def test_reused_case_id_on_other_transaction_already_exists(store):
    """Given DSP-AAA111 on t-1, When a case with the same id is created on t-2, Then AlreadyExists
    and no guard for t-2 is left behind (t-2 can still be disputed)."""
    store.cases.create(case("DSP-AAA111", txn_id="t-1"))
    with pytest.raises(AlreadyExists):
        store.cases.create(case("DSP-AAA111", txn_id="t-2"))
    assert store.cases.find_by_transaction("c-1", "t-2") is None
    store.cases.create(case("DSP-CCC333", txn_id="t-2"))
    assert store.cases.find_by_transaction("c-1", "t-2").case_id == "DSP-CCC333"


def test_cases_are_isolated_per_customer(store):
    """Given c-1's case, When c-2 asks by case id or transaction, Then nothing is found, and
    c-2 transitioning it by id is NotFound."""
    store.cases.create(case())
    assert store.cases.get("c-2", "DSP-AAA111") is None
    assert store.cases.find_by_transaction("c-2", "t-1") is None
    assert store.cases.list_for_customer("c-2") == []
    with pytest.raises(NotFound):
        store.cases.transition("c-2", "DSP-AAA111", CaseState.withdrawn)
    assert store.cases.get("c-1", "DSP-AAA111").state is CaseState.opened


def test_cases_listed_newest_first(store):
    """Given three cases created on different days, When listed, Then newest first."""
    for i, cid in enumerate(["DSP-A", "DSP-B", "DSP-C"]):
        store.cases.create(case(cid, txn_id=f"t-{i}", at=T0 + timedelta(days=i)))
    assert [c.case_id for c in store.cases.list_for_customer("c-1")] == ["DSP-C", "DSP-B", "DSP-A"]


def test_legal_transition_appends_history_and_persists(store):
    """Given an opened case, When moved to provisional_credit then under_review, Then the state,
    update time and history (with notes) are stored."""
    store.cases.create(case())
    store.cases.transition("c-1", "DSP-AAA111", CaseState.provisional_credit, note="credit posted")
    moved = store.cases.transition("c-1", "DSP-AAA111", CaseState.under_review, note="sent to network")
    got = store.cases.get("c-1", "DSP-AAA111")
    assert got == moved
    assert got.state is CaseState.under_review
    assert [(e.state, e.note) for e in got.history] == [
        (CaseState.opened, "case created"),
        (CaseState.provisional_credit, "credit posted"),
        (CaseState.under_review, "sent to network"),
    ]
    assert got.updated_at > T0 and got.updated_at.tzinfo is not None
    assert store.cases.find_by_transaction("c-1", "t-1").state is CaseState.under_review


def test_a_move_through_the_store_records_who_made_it_and_why(store):
    """Given an opened case, When an agent moves it through the store with a reason, Then the history
    entry carries the agent, the actor kind, the state it left and the reason, and it reads back
    the same; a move naming an actor without its kind is refused and changes nothing."""
    store.cases.create(case())
    store.cases.transition("c-1", "DSP-AAA111", CaseState.under_review, note="network asked for receipts",
                           actor="dana", actor_kind="agent")
    with pytest.raises(ValueError):
        store.cases.transition("c-1", "DSP-AAA111", CaseState.awaiting_customer, note="x", actor="dana")
    last = store.cases.get("c-1", "DSP-AAA111").history[-1]
    assert (last.state, last.from_state, last.actor, last.actor_kind, last.note) == (
        CaseState.under_review, CaseState.opened, "dana", "agent", "network asked for receipts")
    assert len(store.cases.get("c-1", "DSP-AAA111").history) == 2


def test_illegal_transition_raises_and_changes_nothing(store):
    """Given an opened case, When asked to jump to resolved_won, Then InvalidTransition and the
    stored case is untouched."""
    created = store.cases.create(case())
    with pytest.raises(InvalidTransition):
        store.cases.transition("c-1", "DSP-AAA111", CaseState.resolved_won)
    assert store.cases.get("c-1", "DSP-AAA111") == created


def test_terminal_state_has_no_way_out(store):
    """Given a withdrawn case, When any further transition is asked, Then InvalidTransition."""
    store.cases.create(case())
    store.cases.transition("c-1", "DSP-AAA111", CaseState.withdrawn, note="customer withdrew")
    with pytest.raises(InvalidTransition):
        store.cases.transition("c-1", "DSP-AAA111", CaseState.under_review)
    assert store.cases.get("c-1", "DSP-AAA111").state is CaseState.withdrawn


def test_transition_of_unknown_case_is_not_found(store):
    """Given no case, When a transition is asked, Then NotFound."""
    with pytest.raises(NotFound):
        store.cases.transition("c-1", "DSP-NOPE", CaseState.under_review)


def test_racing_identical_transitions_apply_once(store):
    """Given an opened case and four threads all moving it to under_review, When they race, Then
    exactly one succeeds, the rest get InvalidTransition, and history has one such entry."""
    store.cases.create(case())
    outcome = race(4, lambda _: store.cases.transition("c-1", "DSP-AAA111", CaseState.under_review))
    assert len(outcome.returned) == 1
    assert [type(exc) for exc in outcome.raised] == [InvalidTransition] * 3
    history = store.cases.get("c-1", "DSP-AAA111").history
    assert [e.state for e in history] == [CaseState.opened, CaseState.under_review]


# --- handoffs -----------------------------------------------------------------------------------


def test_handoff_round_trip_including_context(store):
    """Given a handoff with a nested context and no verified customer, When created and read,
    Then it is equal, context and all."""
    h = handoff(customer_id=None, reason="lockout", status="queued")
    assert store.handoffs.create(h) == h
    got = store.handoffs.get("HND-1")
    assert got == h and got.customer_id is None and got.context["scores"] == [0.4, 0.9]
    assert store.handoffs.get("HND-NOPE") is None


def test_handoff_create_twice_already_exists(store):
    """Given a handoff, When the same reference is created again (replay), Then AlreadyExists and
    the original stays."""
    store.handoffs.create(handoff())
    with pytest.raises(AlreadyExists):
        store.handoffs.create(handoff(summary="different"))
    assert store.handoffs.get("HND-1").summary.startswith("Customer asks")


def test_handoffs_listed_per_session_oldest_first(store):
    """Given handoffs in two sessions, When one session's are listed, Then only its own, oldest
    first."""
    store.handoffs.create(handoff("HND-2", "s-1", at=T0 + timedelta(minutes=2)))
    store.handoffs.create(handoff("HND-1", "s-1", at=T0))
    store.handoffs.create(handoff("HND-3", "s-2", at=T0 + timedelta(minutes=1)))
    assert [h.handoff_id for h in store.handoffs.list_for_session("s-1")] == ["HND-1", "HND-2"]
    assert store.handoffs.list_for_session("s-9") == []


# --- verification -------------------------------------------------------------------------------


def test_verification_state_round_trip_and_overwrite(store):
    """Given a session mid step-up, When saved, read, and saved again verified, Then each read
    returns exactly what was last saved."""
    assert store.verifications.get("s-1") is None
    st = VerificationState(
        session_id="s-1",
        candidate_customer_id="c-1",
        otp_hash="ab" * 32,
        otp_expires_at=T0 + timedelta(minutes=5),
        failures=2,
        locked_until=T0 + timedelta(minutes=30),
        updated_at=T0,
    )
    store.verifications.put(st)
    assert store.verifications.get("s-1") == st
    done = st.model_copy(update={"verified_customer_id": "c-1", "otp_hash": None, "failures": 0})
    store.verifications.put(done)
    got = store.verifications.get("s-1")
    assert got == done and got.otp_expires_at.utcoffset() == timedelta(0)
    assert store.verifications.get("s-2") is None


def test_customer_failures_counted_across_sessions_since_a_time(store):
    """Given failures against c-1 from several sessions (two in the same instant) and one against
    c-2, When counted since a time, Then only c-1's failures at or after it count."""
    store.verifications.record_customer_failure("c-1", T0 - timedelta(hours=2))
    store.verifications.record_customer_failure("c-1", T0)
    store.verifications.record_customer_failure("c-1", T0 + timedelta(minutes=1))
    store.verifications.record_customer_failure("c-1", T0 + timedelta(minutes=1))
    store.verifications.record_customer_failure("c-2", T0 + timedelta(minutes=1))
    assert store.verifications.failures_for_customer("c-1", since=T0) == 3
    assert store.verifications.failures_for_customer("c-1", since=T0 - timedelta(days=1)) == 4
    assert store.verifications.failures_for_customer("c-1", since=T0 + timedelta(hours=1)) == 0
    assert store.verifications.failures_for_customer("c-3", since=T0 - timedelta(days=1)) == 0
