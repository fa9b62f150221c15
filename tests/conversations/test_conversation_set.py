"""The conversation set (tests/fixtures/conversation_set.yaml) stays handled at least as well as measured.

The floor is the share measured when the set was written (bench/results.json records each run);
raise it when the assistant gets better, never lower it to make a change pass.
"""
from __future__ import annotations

from bench.bench_conversations import SET, check, evaluate

FLOOR_PCT = 92.5  # measured 93.8 % alone and 92.8 % inside the full suite (issue 13); the goal is 95 %


def test_the_conversation_set_is_handled_at_least_as_well_as_measured():
    """Given the conversation set of real-sounding messages, When every one is played through the
    emulator and the hook, Then the share handled as expected is not below the measured floor."""
    result = evaluate(SET)
    assert result["first_messages"] >= 150 and result["conversations"] >= 30
    assert result["conversation_set_handled_pct"] >= FLOOR_PCT, result["failures"]


def test_an_answer_that_did_not_understand_never_counts_as_handled():
    """Given an answer saying it did not understand, When checked against any expectation, Then it fails."""
    from chatbot.emulator import TurnResult

    result = TurnResult(user="hi", bot=["Sorry, I didn't understand that."], intent=None, intent_state=None,
                        dialog_action="ElicitIntent")
    assert check(result, {}) == ["said it did not understand"]
