"""Session attributes are client-controlled JSON: parsed only within depth and size limits."""
from __future__ import annotations

import logging

import pytest

from intents.dialog import MAX_JSON_ATTR_CHARS, json_attr, json_attr_refusal
from tests.lex_events import make_lex_event

DEEP = "[" * 10_000 + "]" * 10_000  # 20,000 chars: also over the size limit
DEEP_SMALL = "[" * 8_000 + "]" * 8_000  # under the size limit, refused for its depth


def test_json_attr_reads_ten_thousand_deep_nesting_as_default():
    """Given an intentHistory nested 10,000 deep, When a handler reads it, Then it gets the default
    instead of a RecursionError."""
    assert json_attr({"intentHistory": DEEP}, "intentHistory", []) == []
    assert json_attr({"x": '{"a":' * 10_000 + "1" + "}" * 10_000}, "x", "d") == "d"


def test_json_attr_refuses_huge_values_and_keeps_small_ones():
    """Given a valid JSON value over the size limit and a normal one, When read, Then the huge one is
    the default and the normal one parses; brackets inside strings do not count as depth."""
    huge = "[" + ",".join(["1"] * MAX_JSON_ATTR_CHARS) + "]"
    assert json_attr({"k": huge}, "k", "d") == "d"
    assert json_attr_refusal(huge) == "session_attr_too_large"
    assert json_attr_refusal(DEEP_SMALL) == "session_attr_too_deep"
    assert json_attr({"k": DEEP_SMALL}, "k", []) == []
    assert json_attr({"k": '["[[[[[[[[[[[[[[[[[[[[[[", {"a": [1]}]'}, "k") == ["[" * 22, {"a": [1]}]


@pytest.mark.parametrize("key", ["intentHistory", "pendingIntent", "candidates", "ticketSummary"])
def test_hook_answers_a_session_with_deeply_nested_attribute(world, key, caplog):
    """Given a session whose attribute is nested 8,000 deep (under the size limit), When the customer talks, Then the hook
    answers normally (not the internal-error reply) and logs the dropped value with a stable code."""
    ev = make_lex_event(intent="TalkToAgent", slots={}, transcript="agent", session_attributes={key: DEEP_SMALL})
    with caplog.at_level(logging.WARNING):
        resp = world.hook(ev)
    texts = " ".join(m.get("content", "") for m in resp.get("messages", []))
    assert "reference" in texts.lower()
    assert resp["sessionState"]["sessionAttributes"].get(key) != DEEP_SMALL
    assert any(getattr(r, "error_code", None) == "session_attr_too_deep" for r in caplog.records)


def test_hook_drops_a_huge_attribute_value(world, caplog):
    """Given a 40 KB JSON value in a known session attribute (within Lex's event size), When the
    customer talks, Then it is dropped with a stable code and the turn is answered."""
    ev = make_lex_event(intent="TalkToAgent", slots={}, transcript="agent",
                        session_attributes={"intentHistory": "[" + '"x",' * 10_000 + '"x"]'})
    with caplog.at_level(logging.WARNING):
        resp = world.hook(ev)
    assert "intentHistory" not in resp["sessionState"]["sessionAttributes"] or \
        len(resp["sessionState"]["sessionAttributes"]["intentHistory"]) < 1400
    assert any(getattr(r, "error_code", None) == "session_attr_too_large" for r in caplog.records)
