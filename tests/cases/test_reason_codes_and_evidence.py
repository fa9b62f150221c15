"""Network reason codes per dispute category, and evidence checklists."""
from __future__ import annotations

import pytest

from chalicelib.cases.evidence import case_evidence_status, checklist, missing_evidence
from chalicelib.cases.reason_codes import NoReasonCode, networks, reason_code_for
from chalicelib.core.models import DisputeCase, DisputeReason


@pytest.mark.parametrize(
    "reason,network,channel,code",
    [
        ("unauthorised", "visa", "ecommerce", "10.4"),
        ("unauthorised", "visa", "card_present", "10.3"),
        ("duplicate", "visa", "ecommerce", "12.6.1"),
        ("wrong_amount", "visa", "ecommerce", "12.5"),
        ("not_received", "visa", "ecommerce", "13.1"),
        ("not_as_described", "visa", "ecommerce", "13.3"),
        ("cancelled_subscription", "visa", "recurring", "13.2"),
        ("refund_not_processed", "visa", "ecommerce", "13.6"),
        ("unauthorised", "mastercard", "card_present", "4837"),
        ("duplicate", "mastercard", "ecommerce", "4834"),
        ("not_received", "Mastercard", "ecommerce", "4855"),
        ("not_as_described", "mastercard", "ecommerce", "4853"),
        ("cancelled_subscription", "mastercard", "recurring", "4841"),
        ("refund_not_processed", "mastercard", "ecommerce", "4860"),
    ],
)
def test_reason_code_per_category_and_network(reason, network, channel, code):
    """Given a dispute category, a network and a channel, When the reason code is looked up,
    Then it is the network's real code for that family."""
    assert reason_code_for(reason, network, channel).code == code


def test_every_category_has_a_code_on_every_network_and_unknown_networks_are_refused():
    """Given the table, When every category is looked up on every network, Then each has a code;
    and a network we do not file with raises NoReasonCode rather than a guess."""
    assert networks() == ["mastercard", "visa"]
    for net in networks():
        for reason in DisputeReason:
            assert reason_code_for(reason, net).title
    with pytest.raises(NoReasonCode):
        reason_code_for("duplicate", "amex")


def test_not_received_needs_delivery_date_contact_and_tracking_for_goods():
    """Given a not-received dispute about goods with only the expected delivery date, When the
    checklist is checked, Then merchant contact, description and tracking are still required;
    for a service, tracking is not."""
    status = missing_evidence("not_received", {"expected_delivery_date": "2026-05-01"}, {"goods": True})
    assert not status.complete
    assert [i.key for i in status.missing_required] == ["merchandise_description", "merchant_contact_attempt",
                                                        "tracking_info"]
    service = missing_evidence("not_received", {"expected_delivery_date": "2026-05-01"}, {"goods": False})
    assert "tracking_info" in [i.key for i in service.missing_optional]


def test_credit_not_processed_and_recurring_checklists():
    """Given a refund dispute with a blank credit slip, and a recurring one with date and confirmation,
    When checked, Then the refund one still needs the confirmation; the recurring one is complete."""
    assert [i.key for i in missing_evidence("refund_not_processed", {"refund_confirmation": " "}).missing_required] == [
        "refund_confirmation"]
    done = missing_evidence("cancelled_subscription", {"cancellation_date": "2026-02-01",
                                                       "cancellation_confirmation": "CXL-123"})
    assert done.complete and done.to_dict()["complete"] is True


def test_a_case_reads_its_own_evidence_and_every_category_has_a_required_item():
    """Given a case carrying collected evidence, When its status is asked, Then the case's evidence
    is used; and every category's checklist has at least one required item."""
    case = DisputeCase(case_id="DSP-1", customer_id="c", txn_id="t", reason=DisputeReason.duplicate,
                       disputed_amount_minor=100, evidence={"duplicate_transaction_ref": "txn-2 on 2026-03-01"})
    assert case_evidence_status(case).complete
    for reason in DisputeReason:
        assert any(i.required for i in checklist(reason)), reason
