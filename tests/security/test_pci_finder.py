"""The one card-number finder and the outbound guard (chalicelib.core.pci), measured.

Recall: every Luhn-valid PAN kind in every grouping of the issue, inside sentences. False
positives: a generated set of amounts, dates, times, phone numbers, order ids and case/txn ids,
alone and in sentences, none of which may be touched.
"""
from __future__ import annotations

import itertools
import random
import re

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.core import pci
from tests.security.cards import PANS, groupings

CONTEXTS = ["{}", "my card is {}", "{} was charged twice", "card: {}.", "(ending {})", "I typed {}\nthanks",
            "paid $1,249.00 on 2026-03-03 with {}", "$45.10 {} yesterday", "ref DSP-ALICE1 card {}"]


def _digits_left(text: str) -> str:
    return re.sub(r"\D", "", pci.normalise(text).text)


def _leaks(pan: str, guarded: str) -> bool:
    """True when the guarded text still carries more of the PAN than its last 4."""
    return pan[:-4] in _digits_left(guarded) or pci.contains_pan(guarded)


def test_recall_over_every_kind_grouping_and_context():
    """Given every PAN kind x every grouping x sentence contexts, When guarded, Then none leaks
    and each becomes a token with its own last 4 (recall measured and required to be 100%)."""
    cases = [(pan, ctx.format(written)) for pan in PANS.values() for written in groupings(pan).values()
             for ctx in CONTEXTS]
    missed = [text for pan, text in cases if _leaks(pan, pci.guard_text(text))
              or f"[CARD ****{pan[-4:]}]" not in pci.guard_text(text)]
    recall = 1 - len(missed) / len(cases)
    print(f"pci recall: {recall:.4f} over {len(cases)} cases")
    assert len(cases) > 1500 and not missed, missed[:5]


def _false_positive_corpus(rng: random.Random) -> list[str]:
    def amount():
        n = rng.randint(1, 9_999_999)
        return rng.choice([f"${n / 100:,.2f}", f"€{n / 100:.2f}", f"{n / 100:,.2f} USD", f"£ {n // 100}",
                           f"{n / 100:.2f} dollars", f"{n / 100:,.2f}"])

    def date():
        y, m, d = rng.randint(2000, 2030), rng.randint(1, 12), rng.randint(1, 28)
        return rng.choice([f"{y}-{m:02d}-{d:02d}", f"{m:02d}/{d:02d}/{y}", f"{d}.{m}.{y}", f"{m}/{d}/{y % 100:02d}",
                           f"{y}-{m:02d}-{d:02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"])

    def phone():
        a, b, c = rng.randint(200, 999), rng.randint(200, 999), rng.randint(0, 9999)
        return rng.choice([f"({a}) {b}-{c:04d}", f"{a}-{b}-{c:04d}", f"+1 {a} {b} {c:04d}", f"{a}.{b}.{c:04d}",
                           f"+44 20 {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}",
                           f"+86 1{rng.randint(30, 89)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}",
                           f"+49 30 {rng.randint(10000000, 99999999)}"])

    def order():
        return rng.choice([f"{rng.randint(100, 999)}-{rng.randint(0, 9999999):07d}-{rng.randint(0, 9999999):07d}",
                           f"#{rng.randint(10 ** 7, 10 ** 9)}", f"{rng.randint(10, 99)}-{rng.randint(0, 99999):05d}-{rng.randint(0, 99999):05d}",
                           f"DSP-{rng.choice(['ALICE1', 'Q7K2M9', 'BOB22X'])}", f"txn-{rng.randint(10 ** 12, 10 ** 15)}",
                           f"HND-{rng.randint(1000, 99999)}"])

    makers = [amount, date, phone, order]
    corpus = [rng.choice(makers)() for _ in range(4000)]
    for _ in range(2000):
        a, b, c = (rng.choice(makers)() for _ in range(3))
        corpus.append(rng.choice([f"I paid {a} on {b}, call me on {c}", f"order {a} placed {b} for {c}",
                                  f"{a} charged {b} (ref {c})", f"{a}\n{b}\n{c}",
                                  ", ".join(str(rng.randint(0, 10 ** rng.randint(1, 8))) for _ in range(8))]))
    return corpus


def test_false_positive_rate_on_amounts_dates_phones_and_ids():
    """Given 6,000 generated amounts, dates, phone numbers, order ids and case/txn ids, alone and in
    sentences, When guarded, Then the text comes back unchanged (false-positive rate measured, 0 here)."""
    corpus = _false_positive_corpus(random.Random(8))
    touched = [t for t in corpus if pci.guard_text(t) != t]
    print(f"pci false positives: {len(touched)}/{len(corpus)}")
    assert not touched, touched[:5]


def test_mask_replaces_exactly_the_original_characters():
    """Given a card number in fullwidth digits with zero-width spaces around text, When guarded,
    Then only the card's own characters are replaced (offsets map back to the original)."""
    text = "héllo ４１１１\u200b１１１１ １１１１ １１１１ bye"
    assert pci.guard_text(text) == "héllo [CARD ****1111] bye"
    span, = pci.find_pans(text)
    assert text[span.start] == "４" and text[span.end - 1] == "１" and text[span.end:] == " bye"


def test_cvv_ssn_and_iban_are_removed_and_ordinary_numbers_kept():
    """Given a CVV named by its label, SSNs dashed or after "ssn", and an IBAN, When guarded,
    Then each becomes a typed token while an amount, a date and a quantity stay."""
    text = ("cvv: 123, security code 9876, 321 is my cvc; ssn 123456789 and 123-45-6789; "
            "IBAN DE89 3704 0044 0532 0130 00; 3 items for $12.50 on 2026-03-03")
    out = pci.guard_text(text)
    for secret in ("123,", "9876", "321", "123456789", "123-45-6789", "3704"):
        assert secret not in out, out
    assert out.count("[CVV]") == 3 and out.count("[SSN]") == 2 and "[IBAN]" in out
    assert "3 items for $12.50 on 2026-03-03" in out


def test_guard_value_walks_nested_structures():
    """Given a record with a card number in a nested list and in a key, When guarded as a value,
    Then both are masked and non-strings are untouched."""
    out = pci.guard_value({"a": [1, "card 4111 1111 1111 1111"], "4111111111111111": (None, 2.5)})
    assert out == {"a": [1, "card [CARD ****1111]"], "[CARD ****1111]": (None, 2.5)}


PAN_STRATEGY = st.sampled_from(list(PANS.values()))
SEPARATOR = st.sampled_from([" ", "-", ".", "\u00a0", "\u2013", "\u2212", "\t", "\n", "\r\n", "-\n", "/", "_", ",",
                             "|", "*", ":", "+", "~", "    ", "\u2009", "\u200b", " - "])


@st.composite
def split_pan(draw):
    pan = draw(PAN_STRATEGY)
    cuts = sorted(draw(st.sets(st.integers(1, len(pan) - 1), max_size=6)))
    parts = [pan[a:b] for a, b in itertools.pairwise([0, *cuts, len(pan)])]
    text = parts[0] + "".join(draw(SEPARATOR) + p for p in parts[1:])
    return pan, draw(st.sampled_from(CONTEXTS)).format(text)


@given(split_pan())
def test_no_split_of_a_card_number_escapes(case):
    """Given any PAN cut anywhere into up to 7 pieces joined by any separator the issue lists,
    When guarded, Then no more than its last 4 digits remain."""
    pan, text = case
    assert not _leaks(pan, pci.guard_text(text)), pci.guard_text(text)


def test_decision_log_guard_refuses_every_format_the_guard_finds():
    """Given each card-number grouping (and a CVV, an SSN, an IBAN) in a decision's inputs, When
    the decision-log guard checks it, Then it refuses every one, naming the field, never the value."""
    import pytest

    from chalicelib.governance.decision_log import PiiRejected, contains_pan, guard_no_pan

    formats = [w for pan in PANS.values() for w in groupings(pan).values()]
    formats += ["cvv 123", "ssn 123-45-6789", "DE89 3704 0044 0532 0130 00"]
    for written in formats:
        assert contains_pan(f"inputs: {written}"), repr(written)
        with pytest.raises(PiiRejected) as info:
            guard_no_pan({"inputs": {"text": written}})
        assert "inputs.text" in str(info.value) and written not in str(info.value)


def test_no_false_positive_on_real_customer_texts():
    """Given every banking77 utterance and every CFPB complaint narrative in the shared data
    (real customer words, account numbers already XXXX-ed by the CFPB), When scanned by the guard,
    Then nothing is found: each finding would be a false positive."""
    import csv
    from pathlib import Path

    data = Path(__file__).resolve().parents[2].parent / "shared" / "data"
    csv.field_size_limit(10 ** 8)
    texts = [row["text"] for row in csv.DictReader((data / "banking77" / "train.csv").open(encoding="utf-8"))]
    for path in sorted((data / "cfpb").glob("*.csv")):
        texts += [row.get("Consumer complaint narrative") or "" for row in csv.DictReader(path.open(encoding="utf-8"))]
    found = [(t[:80], pci.find_sensitive(t)) for t in texts if pci.find_sensitive(t)]
    print(f"pci findings on {len(texts)} real texts: {len(found)}")
    assert len(texts) > 13000 and not found, found[:3]


def test_guard_catches_a_card_written_in_circled_numbers():
    """Given a Luhn-valid card number written with circled numbers (⑱ is "18" once normalised,
    and not a digit to ``str.isdigit``)
    When the outbound guard sees it
    Then it is masked like any other card number, as ``find_sensitive`` already finds it."""
    from chalicelib.core.pci import find_sensitive, guard_text
    text = "card ⑱⑳⑩⑯⑳⑲⑮⑳"
    assert find_sensitive(text)
    out = guard_text(text)
    assert "⑱" not in out and "[CARD" in out
