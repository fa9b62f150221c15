"""Card numbers read out in words, SSNs introduced as "social security number", national phone
formats: PII that a bank's customers really write and the digit detectors did not see (issue 11)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from nlp.card_words import detect_card_words
from nlp.redact import redact

EN = "four five three two, zero one five one, one two eight three, zero three six six"  # 4532 0151 1283 0366
ES = "cuatro cinco tres dos cero uno cinco uno uno dos ocho tres cero tres seis seis"
FR = "quatre cinq trois deux zéro un cinq un un deux huit trois zéro trois six six"
DE = "vier fünf drei zwei null eins fünf eins eins zwei acht drei null drei sechs sechs"
MIXED = "4532 zero one five one 1283 0366"
LINE_BROKEN = "two two two\nthree, zero zero three one, two two zero zero, three two two two"  # 2223 0031 2200 3222
PAIRS = "forty-five thirty-two, oh one fifty-one, twelve eighty-three, oh three sixty-six"  # read two by two


def _leaked_digit_runs(text: str, min_len: int = 4) -> list[str]:
    return [run for run in re.findall(r"\d+", text.replace("****", " ")) if len(run) >= min_len]


@pytest.mark.parametrize("spelled,last4", [(EN, "0366"), (ES, "0366"), (FR, "0366"), (DE, "0366"),
                                           (MIXED, "0366"), (LINE_BROKEN, "3222"), (PAIRS, "0366")])
def test_a_card_number_in_words_becomes_a_card_token(spelled, last4):
    """Given a card number read out in English, Spanish, French, German, mixed with digit groups,
    wrapped over a line, or read two digits at a time
    When the message is redacted
    Then the number becomes one card token with its last 4, and no digit word of it is left."""
    out = redact(f"Hi, the card number is {spelled}. Please block it.").text
    assert out == f"Hi, the card number is [CARD ****{last4}]. Please block it."


def test_double_and_triple_and_oh_are_read_as_digits():
    """Given a card number read the British way ("double five", "triple oh", "oh" for zero)
    When it is redacted
    Then it is one card token with the right last 4."""
    spoken = "five double five five, triple five five, five five five five, double four four four"  # 5555 5555 5555 4444
    assert redact(f"card {spoken} ok").text == "card [CARD ****4444] ok"
    assert detect_card_words("four one one one, one one one one, one one one one, one one one one")[0].last4 == "1111"
    assert detect_card_words("six oh one one, triple oh oh, oh oh oh oh, oh oh oh four")[0].last4 == "0004"


def test_a_cvv_read_out_after_the_card_goes_with_it():
    """Given a spelled card number followed by its security code, all in words
    When it is redacted
    Then no digit word survives: the code goes with the number (the card's last 4 are shown)."""
    out = redact(f"It's the Visa {EN}, four one seven.").text
    assert out == "It's the Visa [CARD ****0366]."


def test_a_misheard_card_number_next_to_the_word_card_is_still_redacted():
    """Given 16 spelled digits that fail the Luhn check (one digit misheard) right after "card"
    When it is redacted
    Then the whole run is a card token: a mistyped card number is still a card number."""
    wrong = EN[:-3] + "seven"  # "... zero three six seven"
    out = redact(f"my card is {wrong} thanks").text
    assert out == "my card is [CARD ****0367] thanks"


def test_sixteen_spelled_digits_without_a_card_word_or_a_checksum_are_not_a_card():
    """Given a long spelled run that passes no Luhn window and has no card word near it
    When the detector looks at it
    Then it takes nothing (a raffle ticket read out is not a card); after "card" it does."""
    ticket = "nine seven four six one five three six nine two four five five two two eight"  # no Luhn window
    assert detect_card_words(f"my raffle ticket is {ticket}") == []
    assert detect_card_words(f"my card is {ticket}")[0].last4 == "5228"


@pytest.mark.parametrize("prose", [
    "There are one or two things I want to say, and I called three times already.",
    "They charged me two hundred dollars on the twenty second of November.",
    "I have four kids, two dogs, one cat and zero patience left after 5 calls.",
    "Order one, two, three and four arrived; five and six did not.",
    "Le vendeur m'a dit deux ou trois fois que le colis arriverait, mais rien.",
    "Me cobraron dos veces, una el lunes y otra el martes.",
    "I paid twenty-two dollars and ninety-nine cents on the twenty second, after fifteen calls in thirty days.",
])
def test_ordinary_prose_with_number_words_is_left_alone(prose):
    """Given prose with number words (counts, amounts, dates, lists)
    When it is redacted
    Then it is unchanged."""
    assert redact(prose).text == prose


def test_an_ssn_after_social_security_number_is_an_ssn_not_a_cvv():
    """Given "my social security number ... my social is 078 05 1120"
    When it is redacted
    Then the nine digits are one SSN token: "security number" inside "social security number"
    does not make the first three a card security code and leave six digits behind."""
    text = ("The man on the phone last time asked for my social security number to verify me so "
            "here it is: my social is 078 05 1120.")
    out = redact(text).text
    assert out.endswith("my social is [SSN].")
    assert "[CVV]" not in out and _leaked_digit_runs(out, 2) == []


def test_a_security_number_that_is_not_social_is_still_a_cvv():
    """Given a card "security number" in the same message as a social security number
    When it is redacted
    Then both are caught, each as its own type."""
    out = redact("Social security number 078-05-1120; the card's security number is 417.").text
    assert out == "Social security number [SSN]; the card's security number is [CVV]."


def test_soc_security_abbreviation_is_an_ssn_trigger():
    """Given "soc. security no." before nine undashed digits
    When it is redacted
    Then the digits are an SSN."""
    assert redact("soc. security no. 078051120").text == "soc. security no. [SSN]"


@pytest.mark.parametrize("phone", ["06 12 34 56 78", "06.12.34.56.78", "01-45-67-89-10", "138-0013-8000",
                                   "139 1234 5678"])
def test_national_phone_formats_without_a_phone_word_are_redacted(phone):
    """Given a French (0X XX XX XX XX) or Chinese mobile (13X-XXXX-XXXX) number with no "phone" word
    When it is redacted
    Then the whole number is a phone token (not "138-[PHONE]")."""
    assert redact(f"Françoise Martin\n{phone}\n").text.endswith("\n[PHONE]\n")


@pytest.mark.parametrize("kept", ["on 12.03.2026 at 14.30", "EUR 1.234,56 and 06/12/2026", "order 138-0013-8000-77",
                                  "version 1.12.34.56.78.9", "ratio 06 12 34 56"])
def test_dates_amounts_and_longer_ids_are_not_phones(kept):
    """Given dates, amounts and ids that share digits with the phone shapes
    When they are redacted
    Then they are kept as written."""
    assert "[PHONE]" not in redact(kept).text


@pytest.mark.parametrize("text,number", [
    ("My loan number is 7730018842 and the payment was taken twice.", "7730018842"),
    ("Re: mortgage escrow and payment increase - loan 0049-221-7786", "0049-221-7786"),
    ("policy no. 555-201-7788 was cancelled", "555-201-7788"),
])
def test_a_loan_or_policy_number_is_not_a_phone(text, number):
    """Given a loan or policy number that has the shape of a phone number
    When it is redacted
    Then it is kept as written (it is the key an agent needs, not a way to call the customer)."""
    assert number in redact(text).text


def test_a_phone_number_after_a_phone_word_is_still_a_phone():
    """Given "my number is" before a bare 10-digit number (no id label)
    When it is redacted
    Then it is a phone token."""
    assert redact("you can call me, my number is 7730018842").text == "you can call me, my number is [PHONE]"


def test_red_team_spoken_classes_full_recall_and_must_keep():
    """Given the red-team fixture's spoken / signed / named classes (>= 200 generated cases: card
    numbers in words, SSNs after "social security number", national phones, names) and its KEEP
    cases (prose with number words, departments, regulators)
    When every case is redacted
    Then each class is caught every time, CVV/SSN recall stays 100%, and >= 99% of must-keep facts stay."""
    from training.pii_eval import evaluate

    res = evaluate(Path(__file__).resolve().parents[1] / "fixtures" / "redteam_pii.json")
    by_kind = res["cases_by_kind"]
    assert by_kind["CARD_WORDS"] + by_kind["PHONE"] + by_kind["SPOKEN_NAME"] + by_kind["KEEP"] >= 200
    assert res["recall"] == {"CVV": 1.0, "SSN": 1.0, "CARD_CVV": 1.0, "NAME": 1.0, "CARD_WORDS": 1.0, "PHONE": 1.0,
                             "SPOKEN_NAME": 1.0}, res["misses"]
    assert res["must_keep_pct"] >= 99.0, res["dropped"]


def test_the_red_team_fixture_is_what_the_generator_writes():
    """Given the seeded generator
    When it runs again
    Then it produces the committed fixture case for case (nobody edits the fixture by hand)."""
    import json

    from training.redteam import generate

    committed = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "redteam_pii.json").read_text("utf-8"))
    assert committed["cases"] == generate()


@pytest.mark.parametrize("rule_file", ["pipeline.cfg", "patterns.py", "pii_words.py", "card_words.py",
                                       "signature_names.py"])
def test_the_redaction_version_changes_with_any_rule_file(tmp_path, monkeypatch, rule_file):
    """Given a copy of the redaction rule files
    When one of them changes (a new sign-off, a new digit word)
    Then the redaction version recorded with every decision changes too (a replay can tell)."""
    import shutil

    from nlp import triage

    src = Path(triage.__file__).parent
    for name in ("pipeline.cfg", "patterns.py", "pii_words.py", "card_words.py", "signature_names.py", "taxonomy.py"):
        shutil.copy(src / name, tmp_path / name)
    monkeypatch.setattr(triage, "_NLP_DIR", tmp_path)
    monkeypatch.setattr(triage, "_versions_cache", {})
    before = triage._model_versions(None)["redaction"]
    with (tmp_path / rule_file).open("a", encoding="utf-8") as f:
        f.write("\n# one more rule\n")
    monkeypatch.setattr(triage, "_versions_cache", {})
    assert triage._model_versions(None)["redaction"] != before
