"""Small talk, the merchant stop-list, and the out-of-scope catalogue, checked below the dialog."""
from __future__ import annotations

import pytest

from chalicelib.payments.merchants import merchant_match_score
from intents.out_of_scope import topic_for, topics
from intents.small_talk import classify


@pytest.mark.parametrize("text", ["hello", "are you still there?", "hello? anyone there?", "how long will I wait"])
def test_ordinary_words_never_match_a_merchant(text):
    """Given a Shell payment, When the customer only chats, Then nothing they said names Shell."""
    assert merchant_match_score(text, "SHELL OIL 57442", "Shell") < 0.6


def test_a_real_merchant_still_matches_beside_chat_words():
    """Given a Shell payment, When the customer names it among chat words, Then it still matches."""
    assert merchant_match_score("hi, the shell one please", "SHELL OIL 57442", "Shell") >= 0.6


@pytest.mark.parametrize("text,kind", [("hiya!", "greeting"), ("thx so much", "thanks"), ("ok bye", "goodbye"),
                                       ("r u a bot", "bot"), ("when will someone get back to me?", "wait")])
def test_small_talk_kinds(text, kind):
    """Given a message that is only small talk, When classified, Then its kind is named."""
    assert classify(text) == kind


def test_a_greeting_with_a_request_is_not_small_talk():
    """Given "hi" in front of a request, When classified, Then the request wins (None)."""
    assert classify("hi, I don't recognise a charge from paypal") is None


def test_a_confident_out_of_scope_label_without_its_own_entry_gets_the_default():
    """Given a confident out-of-scope label no topic lists, When looked up, Then the default answers."""
    topic = topic_for("something about ages", "age_limit", 0.95, "out_of_scope")
    assert topic is not None and topic.key == "default"


def test_an_unsure_label_states_no_topic():
    """Given an unsure classifier reading and no topic phrase, When looked up, Then no topic is claimed."""
    assert topic_for("blorp fizzle", "age_limit", 0.2, "out_of_scope") is None


def test_every_catalogue_label_is_a_banking77_out_of_scope_label():
    """Given the catalogue, When its labels are checked against the taxonomy, Then each is out of scope."""
    from nlp.taxonomy import label_to_category

    for t in topics()[0]:
        for label in t.labels:
            assert label_to_category(label) == "out_of_scope", (t.key, label)


@pytest.mark.parametrize("text,lost", [
    ("someone nicked my purse with the debit card inside", True), ("I was mugged last night", True),
    ("cant find my wallet", True), ("money taken from my card", False), ("a missing payment on my card", False),
    ("I lost money on a charge", False), ("the atm took my card, it was taken by the machine", False),
    ("I found my lost card. Am I still able to use it?", False), ("my wallet turned up in the car", False),
    ("my wallet turned up but the card was stolen from it", True),
])
def test_a_lost_card_is_read_from_the_words_about_the_card(text, lost):
    """Given a message, When read for a card loss, Then only a loss of the card (or what holds it) counts."""
    from intents.lost_card import reads_as_lost

    assert reads_as_lost(text) is lost


@pytest.mark.parametrize("raw,expected", [
    ("25/12/1988", ["1988-12-25"]), ("12/25/1988", ["1988-12-25"]), ("03/04/1988", ["1988-04-03", "1988-03-04"]),
    ("04.04.88", ["1988-04-04"]), ("31/02/1990", []), ("12 April 1988", []),
])
def test_numeric_dates_of_birth_are_read_every_way_they_can_mean(raw, expected):
    """Given a typed date of birth, When read, Then each valid day/month order is offered, day-first first."""
    from datetime import date

    from intents.dob import readings

    assert [d.isoformat() for d in readings(raw, date(2026, 11, 18))] == expected


@pytest.mark.parametrize("text,intent", [("cancel my dispute", "WithdrawDispute"), ("take back my claim", "WithdrawDispute"),
                                         ("cancel", None), ("no, stop", None), ("my wallet was stolen", "LostCard"),
                                         ("I want to dispute a charge", None)])
def test_word_rules_name_the_object_before_opening_an_intent(text, intent):
    """Given a message Lex missed, When read by the word rules, Then only a named card loss or dispute withdrawal opens one."""
    from intents.word_rules import intent_from_words

    assert intent_from_words(text) == intent
