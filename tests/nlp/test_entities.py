"""Entity extraction and the slot parsers used by the chat intent handlers."""
from __future__ import annotations

from datetime import date

import pytest

from nlp.entities import extract_entities, parse_amount, parse_date_phrase, parse_date_span
from nlp.redact import redact

TODAY = date(2026, 3, 12)  # a Thursday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$1,249.00", (124900, "USD")),
        ("42.99 USD", (4299, "USD")),
        ("USD 42.99", (4299, "USD")),
        ("€15", (1500, "EUR")),
        ("15 euros", (1500, "EUR")),
        ("42.99 dollars", (4299, "USD")),
        ("£3.50", (350, "GBP")),
        ("¥500", (500, "JPY")),
        ("1.249,50 €", (124950, "EUR")),
        ("50 cents", (50, "USD")),
        ("it was C$20 at the till", (2000, "CAD")),
    ],
)
def test_parse_amount_returns_minor_units_and_currency(text, expected):
    """Given an amount typed the way customers type it
    When parsed for a slot
    Then it becomes integer minor units with an ISO currency (yen has no minor unit)."""
    assert parse_amount(text) == expected


def test_bare_number_needs_a_default_currency():
    """Given a number without currency
    When parsed with and without the card's currency
    Then it is refused without one (the bot re-asks) and accepted with one."""
    assert parse_amount("42.99") is None
    assert parse_amount("42.99", default_currency="usd") == (4299, "USD")
    assert parse_amount("no money here") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("yesterday", date(2026, 3, 11)),
        ("today", TODAY),
        ("the day before yesterday", date(2026, 3, 10)),
        ("last Tuesday", date(2026, 3, 10)),
        ("on Thursday", TODAY),
        ("last Thursday", date(2026, 3, 5)),
        ("2 days ago", date(2026, 3, 10)),
        ("two weeks ago", date(2026, 2, 26)),
        ("a month ago", date(2026, 2, 12)),
        ("March 3", date(2026, 3, 3)),
        ("3rd of March", date(2026, 3, 3)),
        ("03/03/2026", date(2026, 3, 3)),
        ("13/02/2026", date(2026, 2, 13)),
        ("14.02.2026", date(2026, 2, 14)),
        ("2026-03-01", date(2026, 3, 1)),
        ("Dec 24", date(2025, 12, 24)),
        ("it happened on the 5th of January 2025", date(2025, 1, 5)),
    ],
)
def test_parse_date_phrase_resolves_against_today(text, expected):
    """Given absolute and relative date phrases
    When parsed against a fixed today
    Then each resolves to the ISO day meant (a year-less date in the future means last year)."""
    assert parse_date_phrase(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("last week", (date(2026, 3, 2), date(2026, 3, 8))),
        ("this week", (date(2026, 3, 9), TODAY)),
        ("last month", (date(2026, 2, 1), date(2026, 2, 28))),
        ("last weekend", (date(2026, 3, 7), date(2026, 3, 8))),
        ("in the last 3 days", (date(2026, 3, 9), TODAY)),
    ],
)
def test_range_phrases_give_a_range(text, expected):
    """Given a phrase naming a period
    When parsed
    Then the span covers the period and parse_date_phrase gives its first day."""
    assert parse_date_span(text, TODAY) == expected
    assert parse_date_phrase(text, TODAY) == expected[0]


def test_no_date_and_the_verb_may_are_not_dates():
    """Given text without a date (and "may" used as a verb)
    When parsed
    Then nothing is returned."""
    assert parse_date_phrase("I may 3 times have asked", TODAY) is None
    assert parse_date_phrase("nothing here", TODAY) is None


def test_extract_entities_from_redacted_message():
    """Given a redacted customer message with every kind of dispute entity
    When entities are extracted
    Then amounts, dates, merchants, card last 4 (incl. from the redaction token) and ids come out."""
    text = ("Netflix charged me $42.99 twice on March 3 and again yesterday on card 4111 1111 1111 1111 "
            "(the one ending in 4242, also x1234). Case dsp-7k2m9q, txn-8f3a2b-01, HND-4F7K2P. "
            "I also bought from Joe's Pizza.")
    ents = extract_entities(redact(text).text, TODAY)
    assert [(a.minor, a.currency) for a in ents.amounts] == [(4299, "USD")]
    assert [d.date for d in ents.dates] == [date(2026, 3, 3), date(2026, 3, 11)]
    assert [d.relative for d in ents.dates] == [False, True]
    names = {m.name: m.source for m in ents.merchants}
    assert names.get("Netflix") in ("list", "catalogue")
    assert "Joe's Pizza" in names
    assert ents.card_last4 == ["1111", "4242", "1234"]
    assert ents.case_ids == ["DSP-7K2M9Q"]
    assert ents.transaction_ids == ["txn-8f3a2b-01"]
    assert ents.handoff_ids == ["HND-4F7K2P"]


@pytest.mark.parametrize("text", ["card ending 4242", "last four 4242", "last 4 digits are 4242",
                                  "x4242", "****4242", "•••• 4242", "[CARD ****4242]"])
def test_card_last4_forms(text):
    """Given the ways people (and our redactor) mention a card's last 4
    When extracted
    Then the last 4 is found."""
    assert extract_entities(text, TODAY).card_last4 == ["4242"]


def test_empty_text_has_no_entities():
    """Given empty text
    When extracted
    Then an empty result comes back rather than an error."""
    ents = extract_entities("", TODAY)
    assert ents.amounts == [] and ents.dates == [] and ents.card_last4 == []


def test_merchants_resolve_against_the_directory_when_present():
    """Given chalicelib.payments.merchants (the merchant directory) is deployed
    When a message names a merchant by alias or with a typo
    Then the mention carries the directory's merchant key."""
    pytest.importorskip("chalicelib.payments.merchants")
    ents = extract_entities("charged by Starbuks Coffee and AMZN yesterday", TODAY)
    keys = {m.name: m.merchant_key for m in ents.merchants}
    assert keys["AMZN"] == "amazon_mktp"
    assert keys["Starbuks Coffee"] == "starbucks"
