"""Releasing a hold needs a *fresh* step-up: the same TTL as every other step-up check (issue 8.4)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from chalicelib.core.ids import session_key


def _held(world) -> bool:
    return not next(fd for fd in world.store.fraud.list_for_customer("demo-alice") if fd.decision_id == "fd-alice-hold").released


def _step_up_then_ask_release(world, later: timedelta):
    em = world.emulator("demo-alice")
    for text in ["verify my identity", "4242", "12 April 1988"]:
        em.send(text)
    assert "verified" in " ".join(em.send(world.latest_code("demo-alice")).bot)
    world.now += later
    em.send("why is my payment on hold")
    em.send("the best buy one")
    return em.send("yes")


@pytest.mark.parametrize("later", [timedelta(hours=2), timedelta(days=3)], ids=["2h", "3d"])
def test_stale_step_up_does_not_release_a_hold(world, later):
    """Given Alice stepped up in this chat, When she asks to release a hold LATER, Then nothing is
    released and she is asked to verify again."""
    result = _step_up_then_ask_release(world, later)
    assert result.intent == "VerifyIdentity" and result.slot_to_elicit == "CardLast4"
    assert _held(world)


def test_fresh_step_up_releases_a_hold(world):
    """Given Alice stepped up five minutes ago, When she asks to release the hold, Then it is released."""
    result = _step_up_then_ask_release(world, timedelta(minutes=5))
    assert "released" in " ".join(result.bot)
    assert not _held(world)


def test_fresh_verification_is_the_ttl_boundary(world):
    """Given a step-up at T, Then fresh_verification holds at T + ttl and not a second later, and
    never for another customer."""
    step_up = world.services.step_up
    em = world.emulator("demo-alice", session_id="fresh-check")
    for text in ["verify my identity", "4242", "12 April 1988"]:
        em.send(text)
    em.send(world.latest_code("demo-alice"))
    ttl = timedelta(seconds=world.settings.identity_token_ttl_s)
    key = session_key("fresh-check")  # the hook stores step-ups under the hashed session id
    assert step_up.fresh_verification(key, "demo-alice", world.now + ttl)
    assert not step_up.fresh_verification(key, "demo-alice", world.now + ttl + timedelta(seconds=1))
    assert not step_up.fresh_verification(key, "demo-bob", world.now)
