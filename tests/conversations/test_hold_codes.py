"""One hold / decline explanation per reason code, through the real dialog.

For every code in the catalogue the demo data holds a fraud decision; its owner asks about that
payment and must get the customer-safe template for the code, the right next step (release
offer, escalation or self-service) and never a score, threshold or rule.
"""
from __future__ import annotations

import re

import pytest

from chalicelib.payments.fraud_codes import REASON_CODES
from intents.replies import money, render_hold

FORBIDDEN = re.compile(r"\b(score|threshold|rule|model|risk|0\.\d+)\b", re.I)


def _decision_with(world, code):
    for cid in world.store.customers.list_ids():
        for fd in world.store.fraud.list_for_customer(cid):
            if code in fd.reason_codes and len(fd.reason_codes) == 1 and not fd.released:
                txn = world.store.transactions.get(cid, fd.txn_id)
                if txn is not None:
                    return fd, txn
    raise AssertionError(f"demo data has no unreleased single-code decision for {code}")


@pytest.mark.parametrize("code", sorted(REASON_CODES))
def test_each_reason_code_is_explained(world, code):
    """Given a payment stopped for CODE, When its owner asks why, Then the CODE template is shown with
    the step the catalogue allows and nothing internal."""
    fd, txn = _decision_with(world, code)
    emulator = world.emulator(fd.customer_id)
    result = emulator.send(f"why was the {txn.amount_minor / 100:.2f} payment held")
    for _ in range(2):  # the customer may be asked to pick among several stopped payments
        if result.slot_to_elicit in ("HoldChoice",):
            pick = next(b["value"] for b in result.buttons if money(txn.amount_minor) in b["text"])
            result = emulator.send(pick)
    said = " ".join(result.bot)
    rc = REASON_CODES[code]
    expected = render_hold(code, amount=money(txn.amount_minor, txn.currency), merchant=txn.merchant_name,
                           releasable=rc.step_up_releasable)
    assert expected.split(".")[0] in said, (code, result.as_json())
    assert not FORBIDDEN.search(said), said
    if rc.step_up_releasable:
        assert result.slot_to_elicit == "ReleaseHold"
    elif rc.kind == "fraud":
        assert "HND-" in said and result.dialog_action == "Close"
    else:
        assert result.dialog_action == "Close" and "HND-" not in said
