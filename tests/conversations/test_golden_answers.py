"""Golden conversations for yes / no / "not me" answers, many phrasings per expected outcome.

Each YAML under golden_answers/ plays the same opening turns up to one question, then one
customer answer per case; every phrasing listed under an outcome must get that outcome's reply
and leave the store in its state. Adding a phrasing that customers really use is one line.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from chalicelib.core.ids import session_key

from tests.conversations.test_golden import _after, _check

SPECS = sorted((Path(__file__).parent / "golden_answers").glob("*.yaml"))


def _cases():
    for path in SPECS:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        for outcome, block in spec["outcomes"].items():
            for phrasing in block["phrasings"]:
                yield pytest.param(spec, block, str(phrasing), id=f"{path.stem}-{outcome}-{phrasing}")


CASES = list(_cases())


@pytest.mark.parametrize("spec,block,phrasing", CASES)
def test_answer_to_question(world, spec, block, phrasing):
    """Given the conversation has reached the question, When the customer answers with this
    phrasing, Then the reply and the store match the expected outcome."""
    emulator = world.emulator(spec.get("customer"))
    for i, turn in enumerate(spec["before"], 1):
        _check(i, turn["user"], emulator.send(str(turn["user"])), turn.get("expect", {}))
    result = emulator.send(phrasing)
    expect = block.get("expect", {})
    _check(len(spec["before"]) + 1, phrasing, result, expect)
    for slot, value in (expect.get("slot_values") or {}).items():
        assert result.slots.get(slot) == value, result.as_json()
    after = dict(block.get("after") or {})
    if after.pop("no_handoff", False):
        assert world.store.handoffs.list_for_session(emulator.session_id) == []
    _after(world, emulator, after)


def test_each_hold_answer_has_at_least_ten_phrasings():
    """Given the hold-release goldens, Then every outcome is exercised by many real phrasings."""
    spec = yaml.safe_load((Path(__file__).parent / "golden_answers" / "hold_release.yaml").read_text(encoding="utf-8"))
    counts = {k: len(v["phrasings"]) for k, v in spec["outcomes"].items()}
    assert all(n >= 10 for n in counts.values()), counts
    assert set(counts) == {"yes", "no", "not_me", "unclear"}


def test_not_me_hands_the_fraud_team_the_context_redacted(world):
    """Given Alice's held Best Buy payment, When she disowns it and types her card number in the
    same breath, Then the fraud-queue handoff carries the transaction, the fraud decision and its
    reason codes, and her words with the card number masked; the hold is untouched."""
    emulator = world.emulator("demo-alice")
    for text in ("why is my payment on hold", "the best buy one",
                 "that wasn't me, my card is 4111 1111 1111 1111"):
        result = emulator.send(text)
    assert result.slot_to_elicit == "BlockCard"
    [handoff] = world.store.handoffs.list_for_session(session_key(emulator.session_id))
    assert handoff.reason == "fraud_reported_by_customer"
    ctx = handoff.context
    assert (ctx["txn_id"], ctx["fraud_decision_id"], ctx["reason_codes"]) == ("txn-alice-hold", "fd-alice-hold", ["UNUSUAL_AMOUNT"])
    assert ctx["card_block_requested"] is False and ctx["hold_released"] is False
    assert "4111 1111 1111 1111" not in ctx["customer_said"] and "wasn't me" in ctx["customer_said"]
    assert not next(f for f in world.store.fraud.list_for_customer("demo-alice") if f.decision_id == "fd-alice-hold").released
