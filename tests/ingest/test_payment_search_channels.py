"""The one payment search (issue 9): a complaint names the same payment whether it arrives as a
chat message or as an email.

Chat and email used to search differently (chat: 1% amount tolerance, fuzzy merchant names, 180
days; email: exact amounts, merchant substrings, 400 days), so one complaint could be linked to
different payments, or to none, depending on the channel.
"""
from __future__ import annotations

from datetime import datetime

import pytest

from chalicelib.identity import Identity
from chalicelib.payments.search import PaymentQuery, SearchConfig, rank_payments
from intents.payment_picker import find_transactions_in_text
from intents.dialog import Services, Turn
from tests.ingest.conftest import READ_AT
from tests.ingest.test_email_ingest import mail, put_and_record

# The day both channels hear the complaint: the email consumer's day in tests/ingest/conftest.py, so the
# 150-day-old payment stays inside the 180-day window whatever the date of the run.
HEARD_AT = READ_AT

# Each names Alice's Delta Air Lines payment (389.20, five months ago) in words of her own: the
# merchant misspelt or joined up, as customers write it.
COMPLAINTS = [
    "I was charged $389.20 by Delta Airlines and I never flew.",
    "I was charged $389.20 by Delta Air for a flight that was cancelled.",
]


def chat_turn(store, customer_id: str, text: str, now: datetime) -> Turn:
    return Turn(session_id="s-1", intent_name="FileDispute", invocation_source="DialogCodeHook", transcript=text,
                slots={}, original_slots={}, confirmation_state="None", session={}, request_attributes={},
                identity=Identity(customer_id=customer_id, method="token"),
                services=Services(store=store, step_up=None, clock=lambda: now), now=now)


@pytest.mark.parametrize("text", COMPLAINTS)
def test_same_complaint_finds_the_same_payment_in_chat_and_email(sqlite_world, text):
    """Given Alice's payments and a complaint naming one of them with a misspelt merchant
    When she sends it as an email, and when she types it in the chat
    Then both channels pick the same payment: her Delta Air Lines flight."""
    w = sqlite_world
    out = w.service.handle_sqs_record(put_and_record(w, "inbound/delta", mail(body=text))).objects[0]
    emailed = w.store.triage.get(out.record_id).matched_txn_id

    chatted = find_transactions_in_text(chat_turn(w.store, "demo-alice", text, HEARD_AT), text)

    assert emailed == "txn-alice-old"
    assert [t.txn_id for t in chatted] == [emailed]


def test_an_amount_within_the_tolerance_finds_the_payment_and_one_outside_does_not(sqlite_world):
    """Given the shared search's 1% amount tolerance
    When a customer remembers 389.00 for a payment of 389.20, or 380.00
    Then the first finds the Delta payment and the second finds nothing."""
    txns = sqlite_world.store.transactions.list_for_customer("demo-alice")
    near = rank_payments(txns, PaymentQuery(merchant="Delta", amount_minor=38900), SearchConfig())
    far = rank_payments(txns, PaymentQuery(merchant="Delta", amount_minor=38000), SearchConfig())
    assert [t.txn_id for t in near] == ["txn-alice-old"]
    assert far == []


@pytest.mark.parametrize("kwargs", [dict(window_days=0), dict(amount_tolerance=1.5), dict(min_merchant_score=0),
                                    dict(date_slack_days=-1)])
def test_a_search_configured_out_of_range_is_refused(kwargs):
    """Given a search setting outside its range / When the search is configured / Then it says which."""
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        SearchConfig(**kwargs)


def test_the_payment_window_is_the_settings_one():
    """Given DA_PAYMENT_SEARCH_* settings / When the search is configured from them / Then it uses them."""
    from chalicelib.core.settings import Settings

    config = SearchConfig.from_settings(Settings(payment_search_window_days=30, payment_search_amount_tolerance=0.02,
                                                 payment_search_min_merchant_score=0.7))
    assert (config.window_days, config.amount_tolerance, config.min_merchant_score) == (30, 0.02, 0.7)
