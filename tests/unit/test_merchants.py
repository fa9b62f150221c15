"""Merchant directory, descriptor explanations and descriptor-aware fuzzy matching.

The lookup intent treats a score >= 0.6 as "this is the merchant the customer means", and keeps
only results within 0.15 of the best: these tests pin both sides of that line.
"""
from __future__ import annotations

import random
import re

import pytest

from chalicelib.payments.merchants import (
    MCC_DESCRIPTIONS,
    MERCHANTS,
    explain_descriptor,
    find_merchant,
    merchant_match_score,
    render_descriptor,
)

MATCH = 0.6


def test_directory_is_large_and_well_formed():
    """Given the directory, When checked, Then it has ~60+ merchants with unique keys, 4-digit MCCs
    that have a category, sane amount ranges and a known channel."""
    assert len(MERCHANTS) >= 60
    assert len({m.key for m in MERCHANTS}) == len(MERCHANTS)
    for m in MERCHANTS:
        assert re.fullmatch(r"\d{4}", m.mcc) and m.mcc in MCC_DESCRIPTIONS, m.key
        assert 0 < m.amount_range[0] <= m.amount_range[1], m.key
        assert m.channel in {"card_present", "ecommerce", "atm", "recurring"}, m.key
        assert ("{pick}" in "".join(m.descriptors)) == bool(m.picks), m.key


@pytest.mark.parametrize(
    "key,mcc",
    [("kroger", "5411"), ("olive_garden", "5812"), ("starbucks", "5814"), ("uber_trip", "4121"),
     ("shell", "5541"), ("delta", "4511"), ("atm", "6011"), ("barnes_noble", "5942"), ("netflix", "4899"),
     ("draftkings", "7995"), ("bestbuy_com", "5732")],
)
def test_mcc_codes_are_the_iso_18245_ones(key, mcc):
    """Given well-known merchants, When their MCC is read, Then it is the ISO 18245 code for their trade."""
    assert next(m for m in MERCHANTS if m.key == key).mcc == mcc


def test_rendered_descriptors_map_back_to_their_merchant():
    """Given descriptors rendered from every template, When looked up, Then each finds its merchant."""
    rng = random.Random(3)
    for m in MERCHANTS:
        for _ in range(4):
            d = render_descriptor(m, rng)
            assert "{" not in d
            assert find_merchant(d) is m, d


def test_find_merchant_tolerates_longer_real_world_suffixes():
    """Given a descriptor with a longer terminal number than the template, When looked up, Then the
    prefix still identifies the merchant; an unknown descriptor finds nothing."""
    assert find_merchant("SHELL OIL 57444213301").key == "shell"
    assert find_merchant("ZZ UNKNOWN TRADER") is None


@pytest.mark.parametrize(
    "descriptor,needles",
    [
        ("AMZN MKTP US*2K4", ["Amazon Marketplace", "2K4", "order reference"]),
        ("AMZN Mktp US*1A2B3C", ["Amazon Marketplace", "1A2B3C"]),
        ("SQ *BLUE BOTTLE COFFEE", ["Square", "Blue Bottle Coffee"]),
        ("TST* JOES PIZZA", ["Toast", "restaurant"]),
        ("PAYPAL *XINGHUA88", ["PayPal", "XINGHUA88"]),
        ("PP*ACMEWIDGETS", ["PayPal", "ACMEWIDGETS"]),
        ("UBER *EATS", ["Uber Eats"]),
        ("UBER *TRIP", ["Uber ride"]),
        ("APPLE.COM/BILL", ["Apple", "subscription"]),
        ("GOOGLE *YouTube", ["Google", "YouTube"]),
        ("WM SUPERCENTER #1234", ["Walmart", "1234"]),
        ("DELTA AIR 0062345", ["Delta Air Lines", "ticket"]),
        ("ATM WITHDRAWAL 123456 MAIN ST", ["cash", "ATM"]),
        ("SP * ALLBIRDS", ["Shopify"]),
        ("STARBUCKS STORE 00123", ["Starbucks", "00123"]),
    ],
)
def test_explain_descriptor(descriptor, needles):
    """Given a statement descriptor, When explained, Then the explanation names what it is."""
    text = explain_descriptor(descriptor)
    assert text is not None
    for needle in needles:
        assert needle.lower() in text.lower(), (needle, text)


def test_explain_descriptor_says_nothing_when_it_knows_nothing():
    """Given an unknown descriptor or blank text, When explained, Then None (no invented story)."""
    assert explain_descriptor("ZZ UNKNOWN TRADER") is None
    assert explain_descriptor("   ") is None
    assert explain_descriptor("") is None


@pytest.mark.parametrize(
    "query,descriptor,name",
    [
        ("amazon", "AMZN MKTP US*2K4", "Amazon Marketplace"),
        ("Amazon", "AMZN Mktp US*1A2B3C", "Amazon Marketplace"),
        ("amzn", "AMZN MKTP US*7Q1", "Amazon Marketplace"),
        ("blue bottle", "SQ *BLUE BOTTLE COFFEE", "Blue Bottle Coffee"),
        ("the blue bottle charge", "SQ *BLUE BOTTLE COFFEE", "Blue Bottle Coffee"),
        ("uber eats", "UBER *EATS", "Uber Eats"),
        ("ubereats", "UBER *EATS", "Uber Eats"),
        ("starbuks", "STARBUCKS STORE 00123", "Starbucks"),
        ("walmart", "WM SUPERCENTER #1234", "Walmart Supercenter"),
        ("best buy", "BESTBUY.COM 00012345", "Best Buy"),
        ("bestbuy", "BESTBUY.COM 00012345", "Best Buy"),
        ("shell gas station", "SHELL OIL 57442", "Shell"),
        ("netflx", "NETFLIX.COM", "Netflix"),
        ("youtube", "GOOGLE *YouTube", "YouTube Premium (Google)"),
        ("xinghua", "PAYPAL *XINGHUA88", "Xinghua88 (via PayPal)"),
        ("paypal", "PAYPAL *XINGHUA88", "Xinghua88 (via PayPal)"),
        ("delta airlines", "DELTA AIR 0062345", "Delta Air Lines"),
        ("mcdonalds", "MCDONALD'S F12345", "McDonald's"),
    ],
)
def test_customer_words_match_the_descriptor(query, descriptor, name):
    """Given how a customer names a merchant, When scored against its statement line, Then it matches."""
    assert merchant_match_score(query, descriptor, name) >= MATCH


@pytest.mark.parametrize(
    "query,descriptor,name",
    [
        ("netflix", "SPOTIFY USA", "Spotify"),
        ("amazon", "NETFLIX.COM", "Netflix"),
        ("uber eats", "UBER *TRIP", "Uber (ride)"),
        ("blue bottle", "STARBUCKS STORE 00123", "Starbucks"),
        ("chevron", "SHELL OIL 57442", "Shell"),
        ("amazon prime", "AMZN MKTP US*2K4", "Amazon Marketplace"),
        ("2k4", "AMZN MKTP US*2K4", "Amazon Marketplace"),
    ],
)
def test_other_merchants_do_not_match(query, descriptor, name):
    """Given a customer naming one merchant, When scored against another's line, Then below the line."""
    assert merchant_match_score(query, descriptor, name) < MATCH


def test_exact_service_beats_sibling_service():
    """Given "uber eats", When scored against an Uber Eats and an Uber ride line, Then Eats wins by
    more than the lookup's 0.15 tie margin, while plain "uber" matches both."""
    eats = merchant_match_score("uber eats", "UBER *EATS", "Uber Eats")
    trip = merchant_match_score("uber eats", "UBER *TRIP", "Uber (ride)")
    assert eats - trip > 0.15
    assert merchant_match_score("uber", "UBER *TRIP", "Uber (ride)") >= MATCH
    assert merchant_match_score("uber", "UBER *EATS", "Uber Eats") >= MATCH


@pytest.mark.parametrize("query", ["", "   ", "the charge", "$42.99", "🙂🙂"])
def test_empty_or_content_free_query_scores_zero(query):
    """Given a query with no merchant words, When scored, Then 0 (it must not match everything)."""
    assert merchant_match_score(query, "AMZN MKTP US*2K4", "Amazon Marketplace") == 0.0


def test_score_is_bounded_for_odd_input():
    """Given long, non-Latin and punctuation-only inputs, When scored, Then the score stays in [0, 1]."""
    for q in ["a" * 5000, "亚马逊", "*** ### ***", "AMZN MKTP US*2K4"]:
        s = merchant_match_score(q, "AMZN MKTP US*2K4", "Amazon Marketplace")
        assert 0.0 <= s <= 1.0
