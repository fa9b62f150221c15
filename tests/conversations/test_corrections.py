"""Corrections read what the client sends defensively (issue 13): the payments offered beside the
current one live in a session attribute, which the client controls."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize("junk", ['{"a": 1}', "5", "not json", '[1, 2, {"x": []}]', "[" * 40 + "]" * 40])
def test_junk_in_the_offered_payments_is_no_correction_and_no_crash(world, junk):
    """Given a looked-up payment and a session whose offered-payments attribute is junk,
    When the customer says "no, the other one", Then the bot answers without switching to any payment."""
    emu = world.emulator("demo-alice")
    emu.send("did my amazon payment go through")
    emu.session_attributes["otherTxnIds"] = junk
    result = emu.send("no, the other one")
    said = " ".join(result.bot)
    assert "Sorry about that" not in said and "went wrong" not in said.lower()


def test_another_customers_payment_is_never_reached_through_the_offered_payments(world):
    """Given Alice's session claiming Bob's payment was offered beside hers, When she says "no, the other
    one", Then Bob's payment is not shown (every read is scoped to the verified customer)."""
    emu = world.emulator("demo-alice")
    emu.send("did my amazon payment go through")
    emu.session_attributes["otherTxnIds"] = '["txn-bob-dup-1"]'
    result = emu.send("no, the other one")
    assert "Blue Bottle" not in " ".join(result.bot + [b["text"] for b in result.buttons])


def test_the_other_one_flips_back_and_forth(world):
    """Given two held payments and the first picked, When the customer says "the other one" twice,
    Then the answer switches to the second and back to the first."""
    emu = world.emulator("demo-alice")
    emu.send("why was my card declined")
    assert "Best Buy" in " ".join(emu.send("1").bot)
    assert "Shell" in " ".join(emu.send("no, the other one").bot)
    assert "Best Buy" in " ".join(emu.send("not that one, the other one").bot)
