"""Asking which request, when the two likeliest readings are too close to call (issue 13)."""
from __future__ import annotations

from chatbot.recognizer import Guess, recognise
from intents.clarify_intent import too_close


def test_two_close_likely_readings_are_asked():
    """Given a reading barely ahead of the second, both likely, When judged, Then both are offered."""
    g = Guess("FileDispute", 0.37, "utterances", False, runner_up="LookupTransaction", runner_up_score=0.347)
    assert too_close(g) == ("FileDispute", "LookupTransaction")


def test_a_clear_winner_is_not_asked():
    """Given a confident reading, or one well ahead of the second, When judged, Then nothing is asked."""
    assert too_close(Guess("FileDispute", 0.7, "utterances", True, runner_up="LookupTransaction", runner_up_score=0.69)) is None
    assert too_close(Guess("FileDispute", 0.37, "utterances", False, runner_up="LookupTransaction", runner_up_score=0.2)) is None


def test_unlikely_readings_are_not_offered():
    """Given two close readings that are both unlikely, or one that is not a request we serve,
    When judged, Then nothing is asked (the fallback asks as usual)."""
    assert too_close(Guess("FileDispute", 0.2, "utterances", False, runner_up="LookupTransaction", runner_up_score=0.19)) is None
    assert too_close(Guess("SmallTalk", 0.4, "utterances", False, runner_up="LookupTransaction", runner_up_score=0.39)) is None


def test_the_recogniser_reports_its_runner_up():
    """Given a message between a dispute and a look-up, When recognised, Then the guess names the second reading too."""
    g = recognise("the charge from netflix is wrong", use_classifier=False)
    assert g.runner_up is not None and g.runner_up != g.intent and 0 < g.runner_up_score <= g.score
