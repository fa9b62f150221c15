"""Goods not received: the merchant first while the delivery may still come, never for a customer who tried."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from chalicelib.cases.disputes import NOT_RECEIVED_WAIT_DAYS, merchant_first_until
from chalicelib.core.models import DisputeReason, Transaction, TxnStatus

TXN = Transaction(txn_id="t1", customer_id="c1", card_id="k1", card_last4="4242", descriptor="SHOP", merchant_name="Shop",
                  mcc="5999", amount_minor=5000, status=TxnStatus.posted, occurred_at=datetime(2026, 3, 1, 10, tzinfo=timezone.utc),
                  channel="ecommerce")


def test_a_fresh_non_delivery_not_raised_with_the_merchant_goes_to_the_merchant_first():
    """Given goods not received, paid yesterday, merchant not contacted, When checked, Then the
    customer is sent to the merchant until 15 days after paying."""
    assert NOT_RECEIVED_WAIT_DAYS == 15
    assert merchant_first_until(DisputeReason.not_received, False, TXN, date(2026, 3, 2)) == date(2026, 3, 16)


@pytest.mark.parametrize("reason, contacted, today", [
    (DisputeReason.not_received, True, date(2026, 3, 2)),  # already tried: never blocked
    (DisputeReason.not_received, None, date(2026, 3, 2)),  # not asked (unknown): not assumed
    (DisputeReason.not_received, False, date(2026, 3, 16)),  # the wait is over
    (DisputeReason.not_as_described, False, date(2026, 3, 2)),  # other reasons: no delivery to wait for
    (DisputeReason.unauthorised, False, date(2026, 3, 2)),
])
def test_everyone_else_files_now(reason, contacted, today):
    """Given a customer who tried the merchant, a wait that is over, or another reason, When checked,
    Then nothing holds the dispute back."""
    assert merchant_first_until(reason, contacted, TXN, today) is None
