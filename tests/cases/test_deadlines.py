"""Dispute deadlines: worked examples for debit (Reg E) and credit (Reg Z) cards."""
from __future__ import annotations

from datetime import date, datetime, timezone

from chalicelib.cases.deadlines import deadlines_for, deadlines_for_case, end_of_complete_cycles
from chalicelib.core.models import Card, CardType, DisputeCase, DisputeReason, Transaction, TxnStatus


def test_debit_notice_on_friday_before_thanksgiving():
    """Given a debit-card notice on Friday 21 November 2025 about an online purchase,
    When the deadlines are computed, Then provisional credit is due Monday 8 December (Thanksgiving
    skipped, the Friday after counted) and resolution 45 calendar days later, 5 January 2026."""
    dl = deadlines_for(CardType.debit, date(2025, 11, 21), date(2025, 11, 10))
    assert dl.regulation == "reg_e"
    assert dl.due("provisional_credit") == date(2025, 12, 8)
    assert dl.due("resolution") == date(2026, 1, 5)
    assert dl.due("network_filing") == date(2026, 3, 10)


def test_debit_notice_before_july_4_on_a_saturday():
    """Given a debit notice on Wednesday 1 July 2026 (July 4 is a Saturday, observed Friday 3),
    When deadlines are computed, Then provisional credit is due Thursday 16 July 2026 (not 15)."""
    assert deadlines_for("debit", date(2026, 7, 1), date(2026, 6, 20)).due("provisional_credit") == date(2026, 7, 16)


def test_debit_point_of_sale_foreign_and_new_account_extend_the_clock():
    """Given a debit notice on 1 December 2022, When the transaction was at a point of sale, or
    abroad, or on a 10-day-old account, Then resolution is 90 days out; only the new account also
    gets 20 business days for provisional credit (Christmas observed Monday 26 Dec is skipped:
    Friday 30 December)."""
    notice, txn = date(2022, 12, 1), date(2022, 11, 28)
    plain = deadlines_for("debit", notice, txn)
    assert plain.due("resolution") == date(2023, 1, 15)
    for kw in ({"point_of_sale": True}, {"foreign": True}, {"account_opened": date(2022, 11, 18)}):
        assert deadlines_for("debit", notice, txn, **kw).due("resolution") == date(2023, 3, 1), kw
    assert plain.due("provisional_credit") == date(2022, 12, 15)
    new = deadlines_for("debit", notice, txn, account_opened=date(2022, 11, 18))
    assert new.due("provisional_credit") == date(2022, 12, 30)
    old = deadlines_for("debit", notice, txn, account_opened=date(2022, 10, 1))
    assert old.due("resolution") == date(2023, 1, 15)


def test_credit_card_two_billing_cycles():
    """Given a credit-card notice on 10 March 2026 and cycles closing on the 15th, When deadlines
    are computed, Then acknowledgment is due 9 April and resolution at the end of the second complete
    cycle, 15 May (before the 90-day ceiling of 8 June)."""
    dl = deadlines_for(CardType.credit, date(2026, 3, 10), date(2026, 2, 20), billing_cycle_close_day=15)
    assert dl.regulation == "reg_z"
    assert dl.due("acknowledgment") == date(2026, 4, 9)
    assert dl.due("resolution") == date(2026, 5, 15)
    assert dl.get("provisional_credit") is None


def test_credit_card_ninety_day_ceiling_binds():
    """Given a credit notice on 16 March 2026, the day after the cycle closed on the 15th, When
    deadlines are computed, Then two complete cycles would end 15 June but the 90-day ceiling,
    14 June, wins and is explained."""
    dl = deadlines_for("credit", date(2026, 3, 16), date(2026, 3, 1), billing_cycle_close_day=15)
    assert dl.due("resolution") == date(2026, 6, 14)
    assert any("90-day" in n for n in dl.notes)


def test_credit_card_with_unknown_cycle_is_estimated_early():
    """Given a credit notice on 31 December 2025 and no billing-cycle data, When deadlines are
    computed, Then resolution is two months out (28 February 2026), never later than the real date."""
    dl = deadlines_for("credit", date(2025, 12, 31), date(2025, 12, 1))
    assert dl.due("resolution") == date(2026, 2, 28)
    assert dl.due("acknowledgment") == date(2026, 1, 30)


def test_cycle_close_day_31_clamps_to_short_months():
    """Given cycles closing on the 31st and a notice on 5 January 2026, When two complete cycles
    are counted, Then they end on 31 March (February's cycle closes on the 28th)."""
    assert end_of_complete_cycles(date(2026, 1, 5), 31, 2) == date(2026, 3, 31)


def test_network_window_runs_from_expected_delivery_for_not_received():
    """Given goods bought on 1 March 2026 to arrive 1 May 2026, When the case is about goods not
    received, Then the network window is 120 days after the expected delivery: 29 August 2026;
    and for a duplicate charge it stays 120 days after the transaction."""
    opened = datetime(2026, 5, 10, 12, tzinfo=timezone.utc)
    txn = Transaction(
        txn_id="t1", customer_id="c1", card_id="k1", card_last4="4242", descriptor="SHOP", merchant_name="Shop",
        mcc="5999", amount_minor=5000, status=TxnStatus.posted, occurred_at=datetime(2026, 3, 1, tzinfo=timezone.utc),
        channel="ecommerce",
    )
    card = Card(card_id="k1", customer_id="c1", last4="4242", network="visa")
    case = DisputeCase(case_id="DSP-X", customer_id="c1", txn_id="t1", reason=DisputeReason.not_received,
                       disputed_amount_minor=5000, created_at=opened)
    dl = deadlines_for_case(case, txn, card, expected_delivery=date(2026, 5, 1))
    assert dl.due("network_filing") == date(2026, 8, 29)
    assert dl.regulation == "reg_e" and dl.due("resolution") == date(2026, 6, 24)
    dup = case.model_copy(update={"reason": DisputeReason.duplicate})
    assert deadlines_for_case(dup, txn, card, expected_delivery=date(2026, 5, 1)).due("network_filing") == date(2026, 6, 29)
    assert dl.next_due(date(2026, 5, 10)).key == "provisional_credit"



def test_demo_alice_has_one_debit_and_one_credit_card():
    """Given the deterministic demo data, When the demo cards are built, Then alice's 4242 (Visa) is
    debit, her 7781 (Mastercard) credit, and a card built without a type is debit."""
    from chalicelib.demo import demo_data

    cards = {c.last4: c for c in demo_data.demo_customers(demo_data.DemoClock(date(2026, 3, 2))).cards}
    assert cards["4242"].card_type is CardType.debit
    assert cards["7781"].card_type is CardType.credit
    assert Card(card_id="x", customer_id="c", last4="1111").card_type is CardType.debit
