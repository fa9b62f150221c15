"""The hook is the only router: a handler hands a turn on with a Redirect, it never calls a handler."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from chalicelib.identity import Identity
from chatbot.hook import MAX_REDIRECTS, route
from intents.dialog import Decision, Redirect, Turn


def _turn(**changes) -> Turn:
    base = dict(session_id="s-1", intent_name="FallbackIntent", invocation_source="FulfillmentCodeHook",
                transcript="hello", slots={"Old": "x"}, original_slots={"Old": "x"}, confirmation_state="Denied",
                session={"a": "1"}, request_attributes={}, identity=Identity(customer_id=None, method=None),
                services=None, now=datetime(2026, 1, 5, tzinfo=timezone.utc), slot_to_elicit="Old")
    base.update(changes)
    return Turn(**base)


def _handlers(table):
    return lambda name: table[name]


def test_redirect_runs_the_target_fresh_in_the_same_turn():
    """Given a handler that hands the turn to another intent with slots, session, identity and words,
    When the hook routes the turn,
    Then the target runs once with a fresh dialog state, the first handler's words come first,
    its facts are added and the reply belongs to the target intent."""
    seen: list[Turn] = []
    verified = Identity(customer_id="cust-1", method="step_up")

    def first(turn):
        return Decision.redirect_to(Redirect(intent="Target", slots={"S": "v"}, session={"b": "2"}, identity=verified,
                                             invocation_source="DialogCodeHook", messages=["thanks"],
                                             facts={"verified": True}))

    def target(turn):
        seen.append(turn)
        return Decision(action="Close", messages=["done"], facts={"case": "c-1", "verified": False})

    decision = route(_turn(), _handlers({"FallbackIntent": first, "Target": target}))

    assert len(seen) == 1
    t = seen[0]
    assert (t.intent_name, t.slots, t.original_slots, t.slot_to_elicit, t.confirmation_state) == (
        "Target", {"S": "v"}, {}, None, "None")
    assert (t.session, t.identity, t.invocation_source) == ({"b": "2"}, verified, "DialogCodeHook")
    assert decision.intent_name == "Target"
    assert decision.messages == ["thanks", "done"]
    assert decision.facts == {"case": "c-1", "verified": True}


def test_redirect_keeps_the_turns_identity_and_source_unless_given():
    """Given a redirect that names neither identity nor invocation source,
    When the hook routes it, Then the target sees the turn's own."""
    seen: list[Turn] = []
    turn = _turn()

    def target(t):
        seen.append(t)
        return Decision(action="ElicitIntent", messages=["what next?"], intent_name="Other")

    decision = route(turn, _handlers({"FallbackIntent": lambda t: Decision.redirect_to(Redirect(intent="Target")),
                                      "Target": target}))
    assert (seen[0].identity, seen[0].invocation_source) == (turn.identity, "FulfillmentCodeHook")
    assert decision.intent_name == "Other"  # a target that names its intent keeps it


def test_chained_redirects_put_the_first_hand_overs_words_first():
    """Given A hands on to B which hands on to C, When routed, Then C answers after A's and B's words in order."""
    handlers = {
        "FallbackIntent": lambda t: Decision.redirect_to(Redirect(intent="B", messages=["from A"], facts={"k": "A"})),
        "B": lambda t: Decision.redirect_to(Redirect(intent="C", messages=["from B"], facts={"k": "B"})),
        "C": lambda t: Decision(action="Close", messages=["from C"]),
    }
    decision = route(_turn(), _handlers(handlers))
    assert decision.messages == ["from A", "from B", "from C"]
    assert decision.intent_name == "C"
    assert decision.facts == {"k": "A"}


def test_redirect_loop_is_refused():
    """Given two handlers that hand the turn to each other, When routed,
    Then the hook stops with an error (which the hook answers as an internal error) instead of spinning."""
    handlers = {
        "FallbackIntent": lambda t: Decision.redirect_to(Redirect(intent="Ping")),
        "Ping": lambda t: Decision.redirect_to(Redirect(intent="FallbackIntent")),
    }
    with pytest.raises(RuntimeError, match="redirects loop"):
        route(_turn(), _handlers(handlers))
    assert MAX_REDIRECTS >= 2  # verify -> resumed intent and fallback -> intent both fit
