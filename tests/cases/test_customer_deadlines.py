"""The regulatory clock shown to the customer (issue 10): DisputeStatus in chat, and the email
acknowledgment, name the case's next deadline by the rule of the card it was paid with."""
from __future__ import annotations

from datetime import date

import pytest

from chalicelib.cases.customer_deadlines import next_customer_deadline
from chalicelib.cases.disputes import open_case
from chalicelib.core.models import CaseState, DisputeReason
from tests.world import NOW, World


@pytest.fixture
def world(tmp_path):
    return World(tmp_path)


def test_a_debit_card_case_next_owes_a_provisional_credit_after_ten_business_days_skipping_thanksgiving(world):
    """Given a case opened on Wed 18 Nov 2026 on Alice's debit card (Reg E)
    When its next deadline is asked the same day
    Then it is the provisional credit, due Thu 3 Dec: ten business days, weekends and Thanksgiving skipped."""
    txn = world.store.transactions.get("demo-alice", "txn-alice-unrec")
    case, _ = open_case(world.store, txn, DisputeReason.unauthorised, txn.amount_minor, NOW, None, "", "chat")

    clock = next_customer_deadline(world.store, case, NOW.date())

    assert (clock.key, clock.due) == ("provisional_credit", date(2026, 12, 3))
    assert "temporary credit" in clock.phrase and clock.rule.startswith("Reg E")


def test_a_credit_card_case_next_owes_the_written_acknowledgment_within_thirty_days(world):
    """Given Alice's Netflix case on her credit card (Reg Z), opened Thu 29 Oct 2026
    When its next deadline is asked on 18 Nov / Then it is the acknowledgment, due Sat 28 Nov."""
    case = world.store.cases.get("demo-alice", "DSP-ALICE1")

    clock = next_customer_deadline(world.store, case, NOW.date())

    assert (clock.key, clock.due, clock.rule[:5]) == ("acknowledgment", date(2026, 11, 28), "Reg Z")


def test_a_closed_case_has_no_clock(world):
    """Given a resolved case / When its next deadline is asked / Then there is none to show."""
    case = world.store.cases.get("demo-alice", "DSP-ALICE1").model_copy(update={"state": CaseState.resolved_won})

    assert next_customer_deadline(world.store, case, NOW.date()) is None


def test_dispute_status_in_chat_shows_the_next_deadline(world):
    """Given Alice's open Netflix case / When she asks for the status of her dispute in chat
    Then the reply names the next deadline and what she gets by then."""
    reply = world.emulator("demo-alice").send("what's the status of my dispute")

    assert any("Next, by Sat 28 Nov 2026: our written acknowledgment of your dispute" in m for m in reply.bot)
