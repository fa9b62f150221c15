"""Handoff idempotency is keyed by session, reason and customer: one chat session shared by two
customers (a kiosk, a family tablet, a replayed session id) gets one handoff each."""
from __future__ import annotations

import re

from tests.lex_events import make_lex_event


def _agent(world, token: dict | None):
    ev = make_lex_event(intent="TalkToAgent", slots={}, transcript="talk to an agent", session_id="shared-1",
                        request_attributes=token or {})
    resp = world.hook(ev)
    text = " ".join(m.get("content", "") for m in resp.get("messages", []))
    return re.search(r"reference is (HND-\w+)", text).group(1)


def test_second_customer_in_the_same_session_gets_their_own_handoff(world):
    """Given Alice asked for an agent in a session, When Bob asks for an agent in that same session,
    Then Bob gets a different reference and a handoff recorded for him; retries give each their own."""
    alice = _agent(world, world.token("demo-alice"))
    bob = _agent(world, world.token("demo-bob"))
    assert bob != alice
    by_id = {h.handoff_id: h for h in world.store.handoffs.list_for_session(
        world.store.handoffs.get(alice).session_id)}
    assert by_id[alice].customer_id == "demo-alice" and by_id[bob].customer_id == "demo-bob"
    assert _agent(world, world.token("demo-bob")) == bob
    assert _agent(world, world.token("demo-alice")) == alice
    assert len(by_id) == 2


def test_anonymous_caller_after_a_verified_one_is_not_given_their_reference(world):
    """Given Alice (verified) asked for an agent, When an unverified caller asks in the same session,
    Then they get a reference of their own with no customer attached, and Alice's stays hers."""
    alice = _agent(world, world.token("demo-alice"))
    anon = _agent(world, None)
    assert anon != alice
    assert world.store.handoffs.get(anon).customer_id is None
    assert world.store.handoffs.get(alice).customer_id == "demo-alice"


def test_the_first_customers_reference_keeps_its_format(world):
    """Given one customer in a session, Then the reference is the one derived from session and reason
    alone (references already given out stay valid across the deploy)."""
    from chalicelib.core.ids import session_key
    from intents.handoff import short_ref

    assert _agent(world, world.token("demo-alice")) == short_ref("HND", session_key("shared-1"), "customer_request")
