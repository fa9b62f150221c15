"""Card numbers (PANs) and the outbound guard: the one place that decides what counts as one.

PCI DSS 3.4: a PAN is never stored, logged or displayed unmasked (at most first 6 / last 4; we keep
the last 4 only). Every layer that must keep PANs out (redaction, log scrubbing, the decision-log
guard, stored email records, Lex replies and session attributes, metrics) uses these functions, so
they cannot disagree about what a card number is. ``guard_text`` is the one outbound guard: card
numbers, CVVs, SSNs and IBANs out. Standard library only: chalicelib must stay importable without
the NLP stack.

Why the text is normalised first: a customer (or a mail client) can write a card number with
fullwidth or Arabic-Indic digits, zero-width characters between them, or wrapped across lines.
The finder searches an NFKC-normalised, ASCII-digit copy and maps every span back to the
original characters, so the mask replaces exactly what was typed.
"""
from __future__ import annotations

import bisect
import re
import unicodedata
from typing import NamedTuple


def luhn_valid(digits: str) -> bool:
    """Luhn (mod 10) check, used by every card network for the PAN's last digit."""
    if not digits.isdigit() or not digits.isascii():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


class Span(NamedTuple):
    start: int
    end: int
    type: str
    last4: str = ""


# --------------------------------------------------------------------------------------------
# Normalisation with an offset map

# Invisible characters that can sit inside a number without changing what a reader sees.
ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e")


class Normalised(NamedTuple):
    text: str
    origin: list[int] | None  # original index of each character of ``text``; None = identity

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original character range that produced ``text[start:end]``."""
        if self.origin is None:
            return start, end
        return self.origin[start], self.origin[end - 1] + 1


def normalise(text: str) -> Normalised:
    """NFKC per character, every Unicode decimal digit to ASCII, zero-width characters dropped."""
    if text.isascii():
        return Normalised(text, None)
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        if ch in ZERO_WIDTH:
            continue
        for c in (unicodedata.normalize("NFKC", ch) if ord(ch) > 127 else ch):
            if c.isdecimal() and not c.isascii():
                c = str(unicodedata.decimal(c))
            out.append(c)
            origin.append(i)
    return Normalised("".join(out), origin)


# --------------------------------------------------------------------------------------------
# Card numbers

# Between digit groups: any run of whitespace (line breaks, tabs, NBSP, thin spaces), punctuation
# people or mail clients put there, dashes of every kind and the Unicode minus.
_SEP_CHARS = r"\s\-./_,|*:+~\\\u2010-\u2015\u2212\u2043\ufe58\ufe63"
# A comma followed by a space is a list ("12, 345, 6789"), never inside a card number.
PAN_RUN_RE = re.compile(rf"(?<!\d)\d+(?:(?:(?!,\s)[{_SEP_CHARS}]){{1,12}}\d+)*")
_DIGITS_RE = re.compile(r"\d+")

# Facts that are never card numbers on their own: amounts, dates, times, phone numbers, order ids.
# A window made of nothing but them is never a card; a run is first searched with them cut
# out (so "$45.10 5500 0000 0000 0004" keeps its amount), then whole, so a card number whose
# grouping happens to look like a date or an amount ("2 - 2-2-10 - 0000 0000") is still found.
PROTECTED_RES = (
    re.compile(r"(?:US|CA|AU|A|C)?[$€£¥₹]\s?\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?(?![\d,])"),
    re.compile(r"(?:US|CA|AU|A|C)?[$€£¥₹]\s?\d{1,9}(?:\.\d{1,2})?(?!\d)"),
    re.compile(r"(?<![\d.,])\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?(?![\d,])"),
    re.compile(r"(?<![\d.,])\d{1,9}\.\d{2}(?![\d.,])"),
    re.compile(r"(?<!\d)\d{1,9}(?:\.\d{1,2})?\s?(?:USD|EUR|GBP|CAD|AUD|dollars?|euros?|pounds?)\b", re.I),
    re.compile(r"(?<!\d)(?:\d{4}[-/.](?:0?[1-9]|1[0-2])[-/.](?:0?[1-9]|[12]\d|3[01])"
               r"|(?:0?[1-9]|[12]\d|3[01])[-/.](?:0?[1-9]|[12]\d|3[01])[-/.](?:\d{4}|\d{2}))(?!\d)"),
    re.compile(r"(?<!\d)(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?(?!\d)"),
    re.compile(r"(?<!\d)(?:\+?1[ .\-]?)?(?:\(\d{3}\)\s?|\d{3}[ .\-])\d{3}[ .\-]\d{4}(?!\d)"),
    re.compile(r"(?<![\w+])\+\d{1,3}(?:[ .\-]?\(?\d{1,5}\)?){1,5}(?!\d)"),
    re.compile(r"(?<!\d)(?:\d{3}-\d{7}-\d{7}|\d{2}-\d{5}-\d{5})(?!\d)"),  # marketplace order ids
    re.compile(r"(?<![\w#])#\d{1,12}(?!\d)"),  # "#123456789": an order or ticket number
)
CASE_ID_RE = re.compile(r"(?i)\bDSP-[A-Z0-9]{4,12}\b")
HANDOFF_ID_RE = re.compile(r"(?i)\bHND-[A-Z0-9]{4,12}\b")
TXN_ID_RE = re.compile(r"(?i)\btxn[-_][A-Za-z0-9](?:[A-Za-z0-9_\-]*[A-Za-z0-9])?")
_HEX_ID_RE = re.compile(r"(?<![A-Za-z0-9])(?=(?:[0-9]*[a-fA-F]){3})[0-9a-fA-F]{24,}(?![A-Za-z0-9])")
ID_RES = (CASE_ID_RE, HANDOFF_ID_RE, TXN_ID_RE, _HEX_ID_RE)


def _protected(norm: str) -> list[tuple[int, int]]:
    return sorted(m.span() for rx in PROTECTED_RES + ID_RES for m in rx.finditer(norm))


def _hidden(groups: list[tuple[int, int]], base: int, protected: list[tuple[int, int]]) -> list[bool]:
    """For each digit group of a run, whether it is part of an amount, date, phone or id."""
    starts = [ps for ps, _ in protected]
    reach, far = [], -1
    for _, pe in protected:
        far = max(far, pe)
        reach.append(far)
    out = []
    for gs, ge in groups:
        k = bisect.bisect_left(starts, base + ge)
        out.append(k > 0 and reach[k - 1] > base + gs)
    return out


def _windows(run_text: str, groups: list[tuple[int, int]], base: int,
             allowed: list[bool]) -> list[tuple[int, int, str, int, int]]:
    """Every group-aligned window of 13-19 digits that passes Luhn, using only allowed groups;
    each as (start, end, digits, first group, last group)."""
    found: list[tuple[int, int, str, int, int]] = []
    for i in range(len(groups)):
        digits = ""
        for j in range(i, len(groups)):
            if not allowed[j]:
                break
            gs, ge = groups[j]
            digits += run_text[gs:ge]
            if len(digits) > 19:
                break
            # A sub-window starting with 0 is never a PAN (no card network uses MII 0).
            whole = i == 0 and j == len(groups) - 1
            if len(digits) >= 13 and (whole or digits[0] != "0") and luhn_valid(digits):
                found.append((base + groups[i][0], base + ge, digits, i, j))
    return found


def _candidates(run_text: str, groups: list[tuple[int, int]], base: int, hidden: list[bool]) -> list[tuple[int, int, str]]:
    """Windows with amounts, dates, phones and ids cut out, then windows over the whole run that
    are not made of those alone and that do not merely reach back over one onto a card found."""
    first = _windows(run_text, groups, base, [not h for h in hidden])
    found = [(s, e, d) for s, e, d, _, _ in first]
    if not any(hidden):
        return found
    for start, end, digits, i, j in _windows(run_text, groups, base, [True] * len(groups)):
        if all(hidden[i:j + 1]):
            continue  # nothing but amounts, dates, phones or ids (a list of them, one per line)
        # Overlapping a card already found, a window only counts when it runs past that card's
        # end (its true last 4); one that merely reaches back over an amount is not taken.
        if all(end > c[1] for c in first if c[0] < end and start < c[1]):
            found.append((start, end, digits))
    return found


def _find_in(norm: str, standalone_only: bool = False) -> list[Span]:
    """Card spans in already-normalised text (offsets into ``norm``)."""
    spans: list[Span] = []
    protected: list[tuple[int, int]] | None = None
    for run in PAN_RUN_RE.finditer(norm):
        run_text = run.group()
        if len(run_text) < 13:
            continue
        groups = [(m.start(), m.end()) for m in _DIGITS_RE.finditer(run_text)]
        if sum(e - s for s, e in groups) < 13:
            continue
        if protected is None:
            protected = _protected(norm)
        candidates = _candidates(run_text, groups, run.start(), _hidden(groups, run.start(), protected))
        if standalone_only:
            candidates = [c for c in candidates
                          if not (c[0] > 0 and norm[c[0] - 1].isalpha()) and not (c[1] < len(norm) and norm[c[1]].isalpha())]
        if not candidates:
            continue
        candidates.sort()
        cluster_start, cluster_end, best = candidates[0]
        for start, end, digits in candidates[1:]:
            if start < cluster_end:
                cluster_end = max(cluster_end, end)
                if len(digits) > len(best):
                    best = digits
            else:
                spans.append(Span(cluster_start, cluster_end, "CARD", best[-4:]))
                cluster_start, cluster_end, best = start, end, digits
        spans.append(Span(cluster_start, cluster_end, "CARD", best[-4:]))
    return spans


def find_pans(text: str, standalone_only: bool = False) -> list[Span]:
    """Luhn-valid 13-19 digit sequences, whatever the digits and the separators between groups.

    A run of digit groups is searched for every group-aligned window of 13-19 digits that passes
    Luhn, skipping groups that are a standalone amount, date, time, phone number or id; overlapping
    windows are merged so that no fragment of a card number survives next to the token. The last 4
    come from the longest valid window. Offsets are into ``text`` as given. ``standalone_only``
    ignores numbers glued to letters (inside generated ids).
    """
    norm = normalise(text)
    return [Span(*norm.span(s.start, s.end), s.type, s.last4) for s in _find_in(norm.text, standalone_only)]


def split_card_cvv(text: str, cards: list[Span], cvvs: list[Span],
                   finder=None) -> list[Span]:
    """The cards again, with a security code named as one (``cvvs``, most likely first) cut out.

    A code written right after or before the number ("4111 1111 1111 1111 003 is the cvv") is in the
    same digit run, and a window of the run that takes the code in can pass Luhn by chance (one in
    ten): the card token then showed the code in its "last four" ("[CARD ****1003]"). Each code
    inside a card is masked in turn and the card searched again; the first split whose cards still
    cover every other digit of the original span is kept (a code rule that took a group of the card
    itself, "security code 4111 1111 1111 1111", finds no such split and the card stays whole)."""
    if not cvvs or not cards:
        return cards
    finder = finder or find_pans
    out: list[Span] = []
    for card in cards:
        split = None
        for v in cvvs:
            if not (card.start <= v.start and v.end <= card.end):
                continue
            masked = text[card.start:v.start] + "x" * (v.end - v.start) + text[v.end:card.end]
            found = [Span(card.start + s.start, card.start + s.end, s.type, s.last4) for s in finder(masked)]
            rest = [card.start + i for i, ch in enumerate(masked) if ch.isdigit()]
            if found and all(any(s.start <= i < s.end for s in found) for i in rest):
                split = found
                break
        out += split or [card]
    return out


def contains_pan(text: str, standalone_only: bool = False) -> bool:
    return bool(find_pans(text, standalone_only))


def card_token(last4: str) -> str:
    return f"[CARD ****{last4}]"


def _replace(text: str, spans: list[Span]) -> str:
    out, pos = [], 0
    for sp in spans:
        out.append(text[pos:sp.start])
        out.append(card_token(sp.last4) if sp.type == "CARD" else f"[{sp.type}]")
        pos = sp.end
    out.append(text[pos:])
    return "".join(out)


def scrub_pans(text: str) -> tuple[str, int]:
    """Replace every card number by a last-4 token; returns (text, count)."""
    spans = find_pans(text)
    return (_replace(text, spans), len(spans)) if spans else (text, 0)


# --------------------------------------------------------------------------------------------
# CVV, SSN, IBAN: the other values PCI DSS and privacy law say never leave

CVV_RE = re.compile(
    r"(?i)\b(?:cvv2?|cvc2?|cvn|cid|csc|security\s+code|card\s+verification(?:\s+(?:value|code|number))?)"
    r"\b[^\d\n.\[\]]{0,20}?(?<![\d-])(\d{3,4})(?![\d-])")
CVV_AFTER_RE = re.compile(
    r"(?i)(?<![\d$€£¥.,])(\d{3,4})(?![\d.,])\s+(?:is\s+)?(?:the\s+|my\s+)?(?:cvv2?|cvc2?|security\s+code)\b")
# A card's last four as people and we write them: "card ending in 1234", "****1234", "xxxx-xxxx-xxxx-1234",
# and the redaction tokens ("[CARD ****1234]", "[CVV]"). PCI DSS lets the last four show and they are
# never a security code: no CVV rule takes them, so "card ending 1234, cvv 739" keeps its 1234 and a
# redacted text redacted again is unchanged (the CVV rules once made "[CARD ****[CVV]]" of it).
CARD_LAST4_RE = re.compile(
    r"(?i)(?:\b(?:card|visa|mastercard|amex|discover|debit|credit|account|acct|number)\b"
    r"(?:(?!cv[vc]|code|security|verification|digits)[^\d\n]){0,20}?"
    r"\bend(?:s|ing)\s+(?:in\s+|with\s+)?[:#]?\s*|(?<![A-Za-z\d])(?:[*\u2022xX]{2,}[ \-]?){1,3})(\d{4})(?!\d)")
REDACTION_TOKEN_RE = re.compile(r"\[(?:CARD \*{4}\d{4}|[A-Z][A-Z_]*)\]")


def not_a_cvv(text: str) -> list[tuple[int, int]]:
    """Spans no CVV rule may take: a card's last four as written, and redaction tokens."""
    return ([m.span(1) for m in CARD_LAST4_RE.finditer(text)]
            + [m.span() for m in REDACTION_TOKEN_RE.finditer(text)])


def drop_last4(text: str, cvvs: list[Span]) -> list[Span]:
    """The CVV spans that are not a card's last four nor inside a redaction token."""
    if not cvvs:
        return cvvs
    keep = not_a_cvv(text)
    return [s for s in cvvs if not any(a < s.end and s.start < b for a, b in keep)]


SSN_RE = re.compile(r"(?<![\d\-])(?!000|666|9\d\d)(\d{3})([- ]?)(?!00)(\d{2})\2(?!0000)(\d{4})(?![\d\-])")
SSN_CONTEXT_RE = re.compile(r"(?i)\b(?:ssn|social\s+security|ss#|tax\s*id|tin)\b")
_SSN_ANY_RE = re.compile(r"(?<![\d\-])\d{3}([- .]?)\d{2}\1\d{4}(?![\d\-])")
IBAN_RE = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,34}")

# ISO 13616 lengths for the countries a card-dispute desk sees most (an IBAN from elsewhere is not
# recognised: the price of not reading shouted text as one).
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AT": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29, "CH": 21, "CY": 28,
    "CZ": 24, "DE": 22, "DK": 18, "EE": 20, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22,
    "GI": 23, "GL": 18, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27,
    "KW": 30, "KZ": 20, "LB": 28, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MT": 31,
    "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
    "SA": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "TN": 24, "TR": 26, "UA": 29, "VA": 22,
}


def iban_valid(compact: str) -> bool:
    """ISO 7064 mod-97-10 over the rearranged IBAN (country code and check digits moved last)."""
    if len(compact) < 15 or len(compact) > 34 or not compact.isalnum() or not compact.isascii():
        return False
    expected = IBAN_LENGTHS.get(compact[:2])
    if expected is not None and len(compact) != expected:
        return False
    rearranged = compact[4:] + compact[:4]
    try:
        number = int("".join(str(int(ch, 36)) for ch in rearranged))
    except ValueError:
        return False
    return number % 97 == 1


def find_ibans(text: str) -> list[Span]:
    out: list[Span] = []
    for m in IBAN_RE.finditer(text):
        cand = m.group()
        positions = [i for i, ch in enumerate(cand) if ch != " "]
        compact = "".join(cand[i] for i in positions)
        # Only countries whose IBAN length is known: trying every length from 15 to 34 on shouted text
        # ("ACCORDING TO15 USC 3002 I AM ...") passes mod-97 by chance about one time in five.
        if compact[:2] not in IBAN_LENGTHS:
            continue
        for n in (IBAN_LENGTHS[compact[:2]],):
            if n <= len(compact) and iban_valid(compact[:n]):
                out.append(Span(m.start(), m.start() + positions[n - 1] + 1, "IBAN"))
                break
    return out


def _sensitive_in(norm: str) -> list[Span]:
    """CVVs (only when named), SSNs (dashed, or any 9 digits after "ssn"/"social security"), IBANs."""
    spans = drop_last4(norm, [Span(*m.span(1), "CVV") for rx in (CVV_RE, CVV_AFTER_RE) for m in rx.finditer(norm)])
    for m in _SSN_ANY_RE.finditer(norm):
        named = SSN_CONTEXT_RE.search(norm, max(0, m.start() - 40), m.start())
        if (m.group(1) == "-" and SSN_RE.fullmatch(m.group())) or named:
            spans.append(Span(*m.span(), "SSN"))
    return spans + find_ibans(norm)


def find_sensitive(text: str) -> list[Span]:
    """Every span the outbound guard removes, in original offsets, overlaps merged."""
    norm = normalise(text)
    sensitive = _sensitive_in(norm.text)
    cards = split_card_cvv(norm.text, _find_in(norm.text), [s for s in sensitive if s.type == "CVV"], _find_in)
    raw = sorted(cards + sensitive)
    merged: list[Span] = []
    for sp in raw:
        if merged and sp.start < merged[-1].end:
            prev = merged[-1]
            keep = prev if prev.type == "CARD" or sp.type != "CARD" else sp
            merged[-1] = Span(prev.start, max(prev.end, sp.end), keep.type, keep.last4)
        else:
            merged.append(sp)
    return [Span(*norm.span(s.start, s.end), s.type, s.last4) for s in merged]


def guard_text(text: str) -> str:
    """The one outbound guard: card numbers become ``[CARD ****1234]``; CVV, SSN, IBAN a typed token."""
    # Only plain ASCII without a digit is safe to skip: NFKC turns "⑱⑳" into "1820", which
    # ``str.isdigit`` does not see.
    if not text or (text.isascii() and not any(ch.isdigit() for ch in text)):
        return text
    spans = find_sensitive(text)
    return _replace(text, spans) if spans else text


def guard_value(value):
    """``guard_text`` over every string (and string key) in nested dicts, lists and tuples."""
    if isinstance(value, str):
        return guard_text(value)
    if isinstance(value, dict):
        return {guard_value(k) if isinstance(k, str) else k: guard_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(guard_value(v) for v in value)
    return value

