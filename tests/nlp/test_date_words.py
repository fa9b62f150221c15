"""Loose time words for a payment (issue 13): seasons, holidays, a month alone, "a while back".
Each names a stretch of days in the past, resolved against a known today."""
from __future__ import annotations

from datetime import date

import pytest

from nlp.entities import parse_date_span

TODAY = date(2026, 11, 18)  # a Wednesday in late autumn (north)


@pytest.mark.parametrize("words,span", [
    ("last summer", (date(2026, 6, 1), date(2026, 8, 31))),
    ("in the summer", (date(2026, 6, 1), date(2026, 8, 31))),
    ("over the summer", (date(2026, 6, 1), date(2026, 8, 31))),
    ("summer", (date(2026, 6, 1), date(2026, 8, 31))),
    ("in the spring", (date(2026, 3, 1), date(2026, 5, 31))),
    ("last winter", (date(2025, 12, 1), date(2026, 2, 28))),
    ("summer 2025", (date(2025, 6, 1), date(2025, 8, 31))),
    ("in the fall", (date(2026, 9, 1), TODAY)),  # the season still running ends today
])
def test_seasons_in_the_north(words, span):
    """Given a season in words, When read in the northern hemisphere, Then its meteorological months."""
    assert parse_date_span(words, TODAY) == span


def test_seasons_turn_round_in_the_south():
    """Given "last summer", When read for a customer in the southern hemisphere, Then December to February."""
    assert parse_date_span("last summer", TODAY, "south") == (date(2025, 12, 1), date(2026, 2, 28))


def test_last_means_the_one_already_over():
    """Given "last summer" read in July, When resolved, Then it is the summer before, not this one."""
    assert parse_date_span("last summer", date(2026, 7, 10)) == (date(2025, 6, 1), date(2025, 8, 31))


@pytest.mark.parametrize("words,span", [
    ("around christmas", (date(2025, 12, 15), date(2025, 12, 31))),
    ("black friday", (date(2025, 11, 27), date(2025, 12, 1))),  # not last Friday; 2026's is still to come
    ("at easter", (date(2026, 4, 2), date(2026, 4, 7))),
    ("in october", (date(2026, 10, 1), date(2026, 10, 31))),
    ("back in june", (date(2026, 6, 1), date(2026, 6, 30))),
    ("last november", (date(2025, 11, 1), date(2025, 11, 30))),
    ("early october", (date(2026, 10, 1), date(2026, 10, 11))),
    ("the other day", (date(2026, 11, 11), date(2026, 11, 17))),
    ("a few weeks back", (date(2026, 10, 14), date(2026, 11, 11))),
    ("a while back", (date(2026, 5, 22), date(2026, 11, 8))),
    ("over the weekend", (date(2026, 11, 14), date(2026, 11, 15))),
    ("recently", (date(2026, 10, 19), TODAY)),
])
def test_holidays_months_and_loose_words(words, span):
    """Given a holiday, a month alone or a loose phrase, When read, Then the stretch of past days it allows."""
    assert parse_date_span(words, TODAY) == span


@pytest.mark.parametrize("words", ["my spring water order", "i will fall over", "may i ask something", "the summerhouse shop"])
def test_words_that_only_look_like_a_time_are_not_one(words):
    """Given words containing a season or month that are not a time, When read, Then no date."""
    assert parse_date_span(words, TODAY) is None
