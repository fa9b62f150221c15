"""PII redaction: every type, every card format, and the facts a dispute needs left intact."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from nlp.redact import mask_pan, redact, redact_mapping

REPO_ROOT = Path(__file__).resolve().parents[2]


def luhn_ok(digits: str) -> bool:
    """Independent Luhn check so that the tests do not trust the code under test."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def with_check_digit(body: str) -> str:
    for d in "0123456789":
        if luhn_ok(body + d):
            return body + d
    raise AssertionError("unreachable: one check digit always fits")


PAN19 = with_check_digit("601100000000000001"[:18])
CARD_FORMATS = {
    "plain": ("4111111111111111", "1111"),
    "spaced 4-4-4-4": ("4111 1111 1111 1111", "1111"),
    "dashed": ("5555-5555-5555-4444", "4444"),
    "dotted": ("4111.1111.1111.1111", "1111"),
    "double-spaced": ("4111  1111  1111  1111", "1111"),
    "spaced dash": ("4111 - 1111 - 1111 - 1111", "1111"),
    "amex 4-6-5": ("3782 822463 10005", "0005"),
    "mastercard 2-series": ("2223 0031 2200 3222", "3222"),
    "discover": ("6011 1111 1111 1117", "1117"),
    "19-digit": (" ".join([PAN19[:4], PAN19[4:8], PAN19[8:12], PAN19[12:16], PAN19[16:]]), PAN19[-4:]),
    "diners 14": ("3056 930902 5904", "5904"),
}


def digit_runs(text: str) -> list[str]:
    """Digits of every maximal number-like run, separators removed."""
    return [re.sub(r"\D", "", m.group()) for m in re.finditer(r"\d[\d \-.\u2013]*\d|\d", text)]


@pytest.mark.parametrize("name", sorted(CARD_FORMATS))
def test_card_formats_are_replaced_by_last4_token(name):
    """Given a card number typed in a common format
    When the message is redacted
    Then the number is gone and only a token with its last 4 remains."""
    pan, last4 = CARD_FORMATS[name]
    result = redact(f"My card {pan} was charged twice.")
    assert result.text == f"My card [CARD ****{last4}] was charged twice."
    assert result.pii_counts == {"CARD": 1}
    assert [f.type for f in result.findings] == ["CARD"]


def test_luhn_invalid_number_is_not_a_card():
    """Given a 16-digit number that fails the Luhn check (an order number, say)
    When redacted
    Then it is left alone: only checksummed numbers are card numbers."""
    result = redact("Order 4111 1111 1111 1112 arrived broken.")
    assert "4111 1111 1111 1112" in result.text
    assert "CARD" not in result.pii_counts


def test_findings_carry_offsets_never_values():
    """Given a message with a card number
    When redacted
    Then the finding points at the original span and its serialised form holds no digits of it."""
    text = "card 4111111111111111 please"
    result = redact(text)
    (finding,) = result.findings
    assert text[finding.start:finding.end] == "4111111111111111"
    assert "4111" not in finding.model_dump_json()


@pytest.mark.parametrize(
    ("text", "expected", "kind"),
    [
        ("card 4111 1111 1111 1111 cvv 123 thanks", "cvv [CVV] thanks", "CVV"),
        ("the security code is 9876.", "the security code is [CVV].", "CVV"),
        ("card 4111 1111 1111 1111 exp 12/27", "exp [EXPIRY]", "EXPIRY"),
        ("4111 1111 1111 1111 08/29", "[CARD ****1111] [EXPIRY]", "EXPIRY"),
        ("IBAN GB82 WEST 1234 5698 7654 32 is mine", "IBAN [IBAN] is mine", "IBAN"),
        ("iban DE89370400440532013000.", "iban [IBAN].", "IBAN"),
        ("SSN 123-45-6789", "SSN [SSN]", "SSN"),
        ("my social security number is 123456789", "number is [SSN]", "SSN"),
        ("routing 021000021 please", "routing [ROUTING] please", "ROUTING"),
        ("checking account number: 12345678901", "account number: [ACCOUNT]", "ACCOUNT"),
        ("write to jane.doe+bank@example.co.uk now", "write to [EMAIL] now", "EMAIL"),
        ("call me on (415) 555-0199", "call me on [PHONE]", "PHONE"),
        ("or +44 20 7946 0958 from abroad", "or [PHONE] from abroad", "PHONE"),
        ("mobile 07700 900123", "mobile [PHONE]", "PHONE"),
        ("I live at 742 Evergreen Terrace, Springfield, IL 62704.", "I live at [ADDRESS].", "ADDRESS"),
        ("send it to PO Box 1234 please", "send it to [ADDRESS] please", "ADDRESS"),
        ("Hi, my name is John Smith.", "my name is [NAME].", "NAME"),
        ("I'm Maria Garcia and I need help", "I'm [NAME] and", "NAME"),
        ("Dear Mr. O'Neil, thanks", "Dear Mr. [NAME], thanks", "NAME"),
        ("Please help.\n\nKind regards,\nPriya Patel", "Kind regards,\n[NAME]", "NAME"),
        ("I was born on 14 July 1985.", "born on [DOB].", "DOB"),
        ("DOB: 07/14/1985", "DOB: [DOB]", "DOB"),
    ],
)
def test_each_pii_type_is_redacted(text, expected, kind):
    """Given a message containing one kind of personal data in its usual context
    When redacted
    Then that value is replaced by its typed token and counted under its type."""
    result = redact(text)
    assert expected in result.text
    assert result.pii_counts.get(kind, 0) >= 1


def test_later_mentions_of_a_detected_name_are_redacted_too():
    """Given a name introduced once and repeated later
    When redacted
    Then the repeat is redacted as well (a trigger phrase appears only once)."""
    result = redact("My name is Ann Lee. Please tell Ann Lee when it is done.")
    assert "Ann Lee" not in result.text


@pytest.mark.parametrize(
    "text",
    [
        "I was charged $1,249.00 on 03/03/2026 at Amazon, case DSP-ALICE1.",
        "42.99 USD taken twice on 2026-03-03 by Netflix (txn-8f3a2b-01), ref DSP-7K2M9Q.",
        "Refund of €15 from Uber Eats on 3rd of March, handoff HND-4F7K2P.",
        "The card ending 4242 was used for 1,249.50 EUR on 12.03.2026.",
        "Charged £3.50 and ¥500 last Tuesday; my card x4242 and ****4242.",
        "Transaction txn-555-123-4567 of $120.00 on March 3, 2026.",
    ],
)
def test_dispute_facts_are_never_redacted(text):
    """Given amounts, transaction dates, merchants, case/transaction ids and card last-4 mentions
    When redacted
    Then the text is unchanged: triage needs every one of them."""
    result = redact(text)
    assert result.text == text
    assert result.pii_counts == {}


def test_mask_pan_keeps_at_most_last_four():
    """Given a PAN for a log line
    When masked
    Then only the last 4 digits remain readable, and short inputs reveal nothing."""
    assert mask_pan("4111 1111 1111 1111") == "************1111"
    assert mask_pan("4242") == "****"
    assert mask_pan("") == "****"


def test_redact_mapping_scrubs_nested_records():
    """Given a log/record payload with a card number hidden in nested values
    When passed through the safety net
    Then no Luhn-valid number survives anywhere while other values are untouched."""
    record = {"a": ["x 4111-1111-1111-1111 y", 3], "b": {"c": ("5555.5555.5555.4444",)}, "n": 42.99}
    clean = redact_mapping(record)
    assert clean == {"a": ["x [CARD ****1111] y", 3], "b": {"c": ("[CARD ****4444]",)}, "n": 42.99}


def test_importing_redact_does_not_build_the_pipeline():
    """Given a fresh interpreter
    When nlp.redact is imported
    Then spaCy is not even imported yet: handlers that never redact pay nothing."""
    code = ("import sys; import nlp.redact as r; "
            "assert r.get_pipeline.cache_info().currsize == 0; assert 'spacy' not in sys.modules; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "ok", out.stderr


PREFIXES = ["4", "51", "55", "2221", "2720", "34", "37", "6011", "65", "3530"]
SEPARATORS = [" ", "-", ".", " - ", "  ", "\u2013"]
FILLER = st.text(alphabet=st.sampled_from(list("abcdefghij XYZ,;:!?()$€'\"\n")), max_size=40)


@st.composite
def embedded_pan(draw):
    prefix = draw(st.sampled_from(PREFIXES))
    length = draw(st.integers(min_value=13, max_value=19))
    body = prefix + "".join(draw(st.lists(st.sampled_from("0123456789"),
                                          min_size=length - 1 - len(prefix), max_size=length - 1 - len(prefix))))
    pan = with_check_digit(body)
    parts, i = [], 0
    while i < len(pan):
        size = draw(st.integers(min_value=1, max_value=8))
        parts.append(pan[i:i + size])
        i += size
    text = parts[0]
    for part in parts[1:]:
        text += draw(st.sampled_from(SEPARATORS)) + part
    return pan, draw(FILLER) + " " + text + " " + draw(FILLER)


@settings(max_examples=300, deadline=None)
@given(embedded_pan())
def test_no_luhn_valid_pan_survives_any_grouping(case):
    """Given any Luhn-valid PAN split into random groups with random separators inside random text
    When redacted
    Then no 13-19 digit Luhn-valid run survives and the card token keeps exactly its last 4."""
    pan, text = case
    result = redact(text)
    for run in digit_runs(result.text):
        assert not (13 <= len(run) <= 19 and luhn_ok(run))
    assert f"[CARD ****{pan[-4:]}]" in result.text
    assert pan[:-4] not in re.sub(r"\D", "", result.text)


def test_card_number_right_after_an_amount_keeps_the_amount():
    """Given an amount immediately followed by a card number ("$45.10 5100 0000 0045 8"), When
    redacted, Then the amount survives and the card token carries the card's own last 4."""
    from nlp.patterns import luhn_valid

    assert luhn_valid("5100000000458")
    out = redact("$45.10 5100 0000 0045 8").text
    assert out.startswith("$45.10 ") and "[CARD ****0458]" in out
    assert redact("paid 1,249.00 4111 1111 1111 1111 yesterday").text == "paid 1,249.00 [CARD ****1111] yesterday"
