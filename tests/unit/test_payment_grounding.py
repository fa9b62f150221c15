"""Grounding a payment in what the customer says (issue 13): the kind of merchant ("the gas
station", "the coffee place") mapped to merchant category codes as data, the one payment search
using it, and labels that tell look-alike payments apart."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.core.models import Transaction, TxnStatus
from chalicelib.payments.categories import _DATA, categories, category_by_name, find_category
from chalicelib.payments.search import PaymentQuery, SearchConfig, rank_payments
from intents.payment_picker import choice_labels

NOW = datetime(2026, 11, 18, 15, 0, tzinfo=timezone.utc)


def txn(txn_id: str, descriptor: str, name: str, mcc: str, amount: int, days_ago: float, channel: str = "card_present",
        minutes: int = 0) -> Transaction:
    return Transaction(txn_id=txn_id, customer_id="c-1", card_id="card-1", card_last4="4242", descriptor=descriptor,
                       merchant_name=name, mcc=mcc, amount_minor=amount, status=TxnStatus.posted,
                       occurred_at=NOW - timedelta(days=days_ago) + timedelta(minutes=minutes), channel=channel)


SHELL = txn("t-shell", "SHELL OIL 57442", "Shell", "5541", 6410, 2)
EXXON = txn("t-exxon", "EXXONMOBIL 36338750", "ExxonMobil", "5541", 9340, 130)
SBUX = txn("t-sbux", "STARBUCKS STORE 82276", "Starbucks", "5814", 450, 5)
MCD = txn("t-mcd", "MCDONALD'S F22791", "McDonald's", "5814", 884, 6)
CAFE = txn("t-cafe", "SQ *LITTLE ROASTERS", "Little Roasters", "5814", 500, 7)
DELTA = txn("t-delta", "DELTA AIR 0062345", "Delta Air Lines", "4511", 38920, 150)
AMZN = txn("t-amzn", "AMZN MKTP US*2K4", "Amazon Marketplace", "5942", 4299, 1, channel="ecommerce")
TARGET = txn("t-target", "TARGET 61222029", "Target", "5310", 17832, 9)
ALL = [SHELL, EXXON, SBUX, MCD, CAFE, DELTA, AMZN, TARGET]


@pytest.mark.parametrize("words,kind", [
    ("the gas station", "fuel"), ("petrol", "fuel"), ("fuel", "fuel"), ("the servo", "fuel"),
    ("the coffee place", "coffee"), ("that cafe", "coffee"), ("the resturant", "restaurant"),
    ("my flight", "airline"), ("plane tickets", "airline"), ("the hotel", "hotel"), ("a taxi", "taxi"),
    ("groceries", "groceries"), ("the supermarket", "groceries"), ("my netflix subscription", "streaming"),
    ("something i bought online", "online_shop"), ("the chemist", "pharmacy"),
])
def test_a_kind_of_merchant_is_read_from_everyday_words(words, kind):
    """Given a customer's words for a kind of shop, When read, Then the right category is found."""
    found = find_category(words)
    assert found is not None and found[0].name == kind


@pytest.mark.parametrize("words", ["hello", "are you still there", "amazon", "shell", "the one from yesterday", "thanks"])
def test_ordinary_words_and_merchant_names_are_no_kind_of_merchant(words):
    """Given words that name no kind of shop, When read, Then no category is found."""
    assert find_category(words) is None


def test_the_longest_phrase_wins_and_the_rest_is_kept():
    """Given "shell gas station", When read, Then the kind is fuel and "shell" is left for the name."""
    cat, rest = find_category("shell gas station")
    assert cat.name == "fuel" and rest == "shell"


def test_the_category_data_is_well_formed():
    """Given the category file, When loaded, Then every entry has words and codes, and no phrase is
    claimed by two kinds (a word must mean one thing)."""
    raw = json.loads(_DATA.read_text(encoding="utf-8"))
    assert len(categories()) == len(raw["categories"]) >= 15
    seen: dict[str, str] = {}
    for c in categories():
        assert c.words and c.mcc_ranges
        for w in c.words:
            assert seen.setdefault(w, c.name) == c.name, f"{w!r} is both {seen[w]} and {c.name}"


def test_fuel_means_the_fuel_codes():
    """Given the fuel kind, When asked about codes, Then 5541 and 5542 are fuel and 5411 is not."""
    fuel = category_by_name("fuel")
    assert fuel.covers_mcc("5541") and fuel.covers_mcc("5542") and not fuel.covers_mcc("5411")


def test_a_range_of_codes_is_covered():
    """Given the airline kind (3000-3299 are airlines' own codes), When asked, Then a code inside counts."""
    assert category_by_name("airline").covers_mcc("3058") and not category_by_name("airline").covers_mcc("3300")


def test_the_gas_station_finds_every_fuel_payment_and_nothing_else():
    """Given payments at two fuel stations and elsewhere, When searched for "the gas station",
    Then both fuel payments come back, the latest first."""
    found = rank_payments(ALL, PaymentQuery(merchant="the gas station"), SearchConfig())
    assert [t.txn_id for t in found] == ["t-shell", "t-exxon"]


def test_the_coffee_place_is_coffee_shops_not_every_fast_food_counter():
    """Given Starbucks, a roaster and McDonald's (all MCC 5814), When searched for "the coffee place",
    Then the coffee shops come back and McDonald's does not."""
    found = {t.txn_id for t in rank_payments(ALL, PaymentQuery(merchant="the coffee place"), SearchConfig())}
    assert found == {"t-sbux", "t-cafe"}


def test_a_kind_and_a_date_narrow_together():
    """Given two fuel payments months apart, When searched for fuel in the last week,
    Then only the recent one fits."""
    q = PaymentQuery(merchant="petrol", date_from=(NOW - timedelta(days=7)).date(), date_to=NOW.date())
    assert [t.txn_id for t in rank_payments(ALL, q, SearchConfig())] == ["t-shell"]


def test_a_name_beats_a_loose_kind():
    """Given "the mcdonalds restaurant" (McDonald's codes as fast food, not restaurant), When searched,
    Then the named merchant is still found: the name decides, the kind only helps."""
    found = rank_payments(ALL, PaymentQuery(merchant="the mcdonalds restaurant"), SearchConfig())
    assert [t.txn_id for t in found] == ["t-mcd"]


def test_online_shopping_is_the_payments_made_online():
    """Given a shop paid in person and one online, When searched for "the online order",
    Then only the online payment fits."""
    found = rank_payments(ALL, PaymentQuery(merchant="the online order"), SearchConfig())
    assert [t.txn_id for t in found] == ["t-amzn"]


def test_a_misspelt_merchant_is_still_found():
    """Given a Starbucks payment, When searched for "starbuks", Then it is found."""
    assert [t.txn_id for t in rank_payments(ALL, PaymentQuery(merchant="starbuks"), SearchConfig())] == ["t-sbux"]


def test_a_duplicate_charge_gets_two_different_labels():
    """Given the two payments of a duplicate charge (same amount, merchant and day, a minute apart),
    When labelled for buttons and for the list, Then no two labels read the same."""
    a = txn("d-1", "SQ *BLUE BOTTLE COFFEE", "Blue Bottle Coffee", "5814", 675, 2, minutes=1)
    b = txn("d-2", "SQ *BLUE BOTTLE COFFEE", "Blue Bottle Coffee", "5814", 675, 2)
    buttons, lines = choice_labels([a, b]), choice_labels([a, b], with_day=True)
    assert len(set(buttons)) == 2 and len(set(lines)) == 2
    assert all(len(x) <= 50 for x in buttons)


def test_a_label_adds_detail_only_where_needed():
    """Given two look-alike payments and a third that differs, When labelled, Then the third keeps its
    short label."""
    a = txn("d-1", "SQ *BLUE BOTTLE COFFEE", "Blue Bottle Coffee", "5814", 675, 2, minutes=1)
    b = txn("d-2", "SQ *BLUE BOTTLE COFFEE", "Blue Bottle Coffee", "5814", 675, 2)
    assert choice_labels([a, b, SBUX])[2] == "$4.50 Starbucks"


def test_a_long_merchant_name_keeps_what_tells_it_apart():
    """Given look-alike payments with a very long merchant name, When labelled for a button,
    Then the label fits Lex's 50 characters and still ends with what differs."""
    long = "Amazon Digital (Kindle, Prime Video) Subscriptions Ltd"
    a = txn("l-1", "AMZN Digital*1", long, "5815", 199, 3, minutes=5)
    b = txn("l-2", "AMZN Digital*2", long, "5815", 199, 3)
    la, lb = choice_labels([a, b])
    assert la != lb and len(la) <= 50 and len(lb) <= 50


def test_an_amount_without_cents_fits_within_one_unit():
    """Given a $64.10 payment, When searched for "64 dollars" (cents left out), Then it fits; searched
    for exactly $64.00, Then it does not (the 1 % tolerance is 64 cents)."""
    assert [t.txn_id for t in rank_payments(ALL, PaymentQuery(amount_minor=6400, amount_approx="whole"), SearchConfig())] == ["t-shell"]
    assert rank_payments(ALL, PaymentQuery(amount_minor=6300), SearchConfig()) == []


def test_about_an_amount_fits_within_a_tenth():
    """Given a $389.20 payment, When searched for "about 360 dollars", Then it fits (within a tenth),
    and "about 300" does not."""
    assert [t.txn_id for t in rank_payments(ALL, PaymentQuery(amount_minor=36000, amount_approx="about"), SearchConfig())] == ["t-delta"]
    assert rank_payments(ALL, PaymentQuery(amount_minor=30000, amount_approx="about"), SearchConfig()) == []
