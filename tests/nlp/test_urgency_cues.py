"""Urgency cues people actually write (age, failing sight, a late spouse, one income, money needed
for rent, a card being misused tonight), and the mail boilerplate that must not count."""
from __future__ import annotations

import pytest

from nlp.urgency import score_urgency, without_boilerplate


@pytest.mark.parametrize("text, reason", [
    # age, sight and hearing, a death, a single income, lost work (FCA FG21/1 drivers)
    ("I am 79 years old and do not use online banking.", "vulnerable_customer"),
    ("I'm 92 and my son usually helps me with the bank.", "vulnerable_customer"),
    ("My father, aged 84 years, cannot travel to the branch.", "vulnerable_customer"),
    ("I am in my late eighties and I find the letters confusing.", "vulnerable_customer"),
    ("As a pensioner I cannot lose this money.", "vulnerable_customer"),
    ("My eyesight is poor so I cannot read the small print.", "vulnerable_customer"),
    ("I am partially sighted and the app is impossible for me.", "vulnerable_customer"),
    ("I am hard of hearing, so please write rather than call.", "vulnerable_customer"),
    ("Since my late wife's passing I handle the accounts alone.", "vulnerable_customer"),
    ("I was widowed last spring.", "vulnerable_customer"),
    ("I'm a single dad with two kids.", "vulnerable_customer"),
    ("I lost my job in September.", "vulnerable_customer"),
    # money needed for rent or food, misuse happening tonight, a card to stop
    ("I need that money back for my rent this week.", "time_pressure"),
    ("That was the cash for groceries.", "time_pressure"),
    ("Someone is using my card tonite.", "time_pressure"),
    ("I need my card blocked, someone has the details.", "time_pressure"),
    ("pls block my card", "time_pressure"),
])
def test_cues_people_write_fire_their_reason(text, reason):
    """Given a sentence with one cue in everyday words
    When urgency is scored
    Then its reason is reported."""
    assert reason in score_urgency(text).reasons


@pytest.mark.parametrize("text", ["I am 63 years old and I know how to use a computer.",
                                  "I am 80 miles from the nearest branch.",
                                  "Single payment of $80, not a subscription."])
def test_age_under_the_threshold_and_other_numbers_are_not_vulnerability(text):
    """Given a middle age, a distance, or "single" used of a payment
    When urgency is scored
    Then vulnerable_customer does not fire."""
    assert "vulnerable_customer" not in score_urgency(text).reasons


def test_the_boilerplate_sentence_is_blanked_and_the_rest_kept():
    """Given a reply whose footer says "if you have received this e-mail in error, please notify us
    immediately", and whose author needs the money today
    When urgency is scored
    Then only the author's "today" counts, and the author's sentence survives the blanking."""
    text = ("I need the refund today.\n\nIf you have received this e-mail in error, please notify us immediately "
            "and delete it.")
    assert "I need the refund today." in without_boilerplate(text)
    assert "immediately" not in without_boilerplate(text)
    u = score_urgency(text)
    assert u.reasons == ["time_pressure"] and u.evidence["time_pressure"] == ["today"]


@pytest.mark.parametrize("text, reason", [
    ("There was unauthorised use of my card and I will sue the shop.", "legal_threat"),
    ("I am not the intended victim here, I will contact my lawyer.", "legal_threat"),
])
def test_a_customers_own_sentence_is_never_taken_for_boilerplate(text, reason):
    """Given a complaint sentence that shares words with disclaimers ("unauthorised use", "intended")
    When urgency is scored
    Then its own signal still counts."""
    assert reason in score_urgency(text).reasons


def test_a_disclaimer_alone_has_no_urgency():
    """Given only a confidentiality footer with "immediately" and "legal action"
    When urgency is scored
    Then there is no reason at all."""
    footer = ("CONFIDENTIALITY NOTICE: this message is for the intended recipient only. Any unauthorized use may "
              "result in legal action. If you received this message in error, notify the sender immediately.")
    assert score_urgency(footer).reasons == []
