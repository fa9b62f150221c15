"""Card numbers spelled out in words ("four five three two, zero one five one, ...").

Why a detector of its own: the card-number finder (``chalicelib.core.pci``) reads digits. A
customer who reads the card out to a dictation app, or was told "don't type the number", writes
"the card number is four five three two, zero one five one, one two eight three, zero three six
six", "cuatro cinco tres dos ...", "quatre cinq trois deux ...", or mixes words and digit groups
("2223 zero zero three one ..."). PCI DSS 3.4 does not care how a PAN was written.

How: every digit word (English, Spanish, French, German, Italian, Portuguese; "oh" for zero;
"double five" / "triple zero") and every digit group is a token; tokens separated only by
spaces, commas, dots, dashes or single line breaks form a run. A run that spells out at least one
digit and holds 13-19 digits in a Luhn-valid token-aligned window is a card (the whole run goes, so a CVV read out
after it goes too); a run of 13-19
digits next to a card word ("card", "Visa", "tarjeta", "carte", ...) is one even when a digit was
misheard (a mistyped card number is still a card number). Ordinary prose never strings 13 digit
words together ("one or two things", "I called three times", "two hundred dollars", "the twenty
second" are not runs), so it is never touched.
"""
from __future__ import annotations

import re

from chalicelib.core.pci import Span, luhn_valid

__all__ = ["DIGIT_WORDS", "detect_card_words", "spelled_runs"]

# Digit words by language. Where a word means different digits in two languages none does here.
DIGIT_WORDS: dict[str, int] = {}
for _lang_words in (
    "zero one two three four five six seven eight nine",  # en
    "cero uno dos tres cuatro cinco seis siete ocho nueve",  # es
    "zéro un deux trois quatre cinq six sept huit neuf",  # fr
    "null eins zwei drei vier fünf sechs sieben acht neun",  # de
    "zero uno due tre quattro cinque sei sette otto nove",  # it
    "zero um dois três quatro cinco seis sete oito nove",  # pt
):
    for _digit, _word in enumerate(_lang_words.split()):
        DIGIT_WORDS.setdefault(_word, _digit)
DIGIT_WORDS.update({"oh": 0, "una": 1, "une": 1, "uma": 1, "ein": 1, "zwo": 2, "duas": 2, "tres": 3, "fuenf": 5})

# Read in pairs ("forty-five thirty-two" for 4532, "oh five" for 05), English: a tens word takes a
# unit word after it ("forty five", "forty-five"); a teen is two digits on its own.
TEENS = {w: str(10 + i) for i, w in enumerate(
    "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split())}
TENS = {w: str(20 + 10 * i)[0] for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())}
_UNITS_EN = {w: str(i) for i, w in enumerate("zero one two three four five six seven eight nine".split()) if i}
_REPEAT = {"double": 2, "triple": 3}
# Words are scanned once and looked up (a 60-word alternation regex costs four times as much).
_WORD_RE = re.compile(r"\w+")
# Between two tokens of one run: spaces, commas, dots, dashes, slashes, at most one line break.
_GAP_RE = re.compile(r"[ \t\u00a0,.;:\-\u2013\u2014/]*\n?[ \t\u00a0,.;:\-\u2013\u2014/]*")
CARD_WORD_RE = re.compile(
    r"(?i)\b(?:card|cards|visa|master\s?card|amex|american\s+express|discover|debit|credit|pan|long\s+number"
    r"|tarjeta|n[úu]mero|carte|num[ée]ro|cb|karte|kartennummer|carta|cart[ãa]o)\b")
CONTEXT_CHARS = 60


def _tokens(text: str):
    """(start, end, digits, is_word) for each digit word ("double five" -> "55", "forty-five" -> "45",
    "twelve" -> "12") and each standalone digit group (not the decimals or thousands of an amount:
    "1,234.56" gives none)."""
    pending: tuple[int, int, str] | None = None  # "double"/"triple" or a tens word, waiting for a unit
    for m in _WORD_RE.finditer(text):
        word = m.group()
        low = word.lower()
        joined = pending is not None and text[pending[1]:m.start()] in (" ", "-")
        if joined and pending[2] == "tens" and low in _UNITS_EN:
            yield pending[0], m.end(), TENS[text[pending[0]:pending[1]].lower()] + _UNITS_EN[low], True
            pending = None
            continue
        if pending is not None and pending[2] == "tens":
            yield pending[0], pending[1], TENS[text[pending[0]:pending[1]].lower()] + "0", True
            pending = None
        if low in DIGIT_WORDS:
            if joined and pending is not None:
                yield pending[0], m.end(), str(DIGIT_WORDS[low]) * _REPEAT[text[pending[0]:pending[1]].lower()], True
            else:
                yield m.start(), m.end(), str(DIGIT_WORDS[low]), True
            pending = None
        elif low in _REPEAT:
            pending = (m.start(), m.end(), "repeat")
        elif low in TENS:
            pending = (m.start(), m.end(), "tens")
        elif low in TEENS:
            pending = None
            yield m.start(), m.end(), TEENS[low], True
        else:
            pending = None
            if word.isdigit() and word.isascii() and not (m.start() and text[m.start() - 1] in ".,"):
                yield m.start(), m.end(), word, False
    if pending is not None and pending[2] == "tens":
        yield pending[0], pending[1], TENS[text[pending[0]:pending[1]].lower()] + "0", True


def spelled_runs(text: str) -> list[tuple[list[tuple[int, int, str]], bool]]:
    """Runs of digit tokens as ([(start, end, digits)], spells_a_word)."""
    runs: list[tuple[list[tuple[int, int, str]], bool]] = []
    current: list[tuple[int, int, str]] = []
    spelled = False
    for start, end, digits, is_word in _tokens(text):
        if current and not _GAP_RE.fullmatch(text, current[-1][1], start):
            runs.append((current, spelled))
            current, spelled = [], False
        current.append((start, end, digits))
        spelled = spelled or is_word
    if current:
        runs.append((current, spelled))
    return runs


def _best_window(tokens: list[tuple[int, int, str]], min_len: int = 13) -> tuple[int, int, str] | None:
    """The longest token-aligned Luhn-valid window of ``min_len``-19 digits, as (first, last, digits)
    (the pci finder's rule: the last 4 shown are the valid number's)."""
    best: tuple[int, int, str] | None = None
    for i in range(len(tokens)):
        digits = ""
        for j in range(i, len(tokens)):
            digits += tokens[j][2]
            if len(digits) > 19:
                break
            if len(digits) >= min_len and digits[0] != "0" and luhn_valid(digits) and (best is None or len(digits) > len(best[2])):
                best = (i, j, digits)
    return best


def detect_card_words(text: str) -> list[Span]:
    """CARD spans (with the last 4) for card numbers written partly or wholly in words."""
    out: list[Span] = []
    for tokens, spelled in spelled_runs(text):
        total = "".join(t[2] for t in tokens)
        if not spelled or len(total) < 13:
            continue
        # The whole run goes: digits read out around a card number are its CVV or expiry, or a
        # misheard digit; a fragment left beside the token would be part of the number. The last 4
        # shown are those of a valid 15-19 digit number in the run, else (next to a card word) the
        # run's own, else those of a shorter valid window; 13 spelled digits by chance pass Luhn
        # one time in ten, so a short window never decides alone which digits are shown.
        near_card = bool(CARD_WORD_RE.search(text, max(0, tokens[0][0] - CONTEXT_CHARS), tokens[0][0]))
        best = _best_window(tokens, 15)
        if best is not None:
            last4 = best[2][-4:]
        elif near_card and len(total) <= 19:
            last4 = total[-4:]
        else:
            short = _best_window(tokens)
            if short is None:
                continue
            last4 = short[2][-4:]
        out.append(Span(tokens[0][0], tokens[-1][1], "CARD", last4))
    return out
