"""Dispute entities: amounts, dates, merchants, card last 4, transaction and case ids.

Why rules: these are the keys used to find the disputed transaction, so they must be exact and
explainable (a date is resolved against a known "today", an amount keeps its currency and minor
units). Run it on *redacted* text: card last 4 are read back from the ``[CARD ****1234]`` tokens.
The chat slot validators call ``parse_date_phrase`` and ``parse_amount`` directly.
"""
from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

Day = date  # the DateMention field named ``date`` would shadow the type in its own annotations
from decimal import Decimal, InvalidOperation

from pydantic import BaseModel, Field

from nlp import date_words as DW
from nlp import patterns as P
from nlp.merchant_mentions import MerchantMention, find_merchants

__all__ = ["Amount", "DateMention", "MerchantMention", "Entities", "extract_entities",
           "parse_amount", "parse_date_phrase", "parse_date_span"]


class Amount(BaseModel):
    text: str
    minor: int  # integer minor units (cents; yen for JPY)
    currency: str  # ISO 4217
    start: int
    end: int


class DateMention(BaseModel):
    text: str
    start: int
    end: int
    date: Day | None = None  # set when the phrase names one day
    date_from: Day  # the range (equal to ``date`` for one day)
    date_to: Day
    relative: bool = False


class Entities(BaseModel):
    amounts: list[Amount] = Field(default_factory=list)
    dates: list[DateMention] = Field(default_factory=list)
    merchants: list[MerchantMention] = Field(default_factory=list)
    card_last4: list[str] = Field(default_factory=list)
    transaction_ids: list[str] = Field(default_factory=list)
    case_ids: list[str] = Field(default_factory=list)
    handoff_ids: list[str] = Field(default_factory=list)


# ------------------------------------------------------------------------------------------------
# Amounts

_CURRENCY_CODES = set(P.CURRENCY_CODES)


def _to_minor(num: str, currency: str) -> int | None:
    num = num.strip()
    if "," in num and "." in num:
        dec = "." if num.rfind(".") > num.rfind(",") else ","
    elif "," in num:
        dec = "," if re.search(r",\d{1,2}$", num) else None
    elif "." in num:
        dec = "." if re.search(r"\.\d{1,2}$", num) else None
    else:
        dec = None
    if dec is None:
        cleaned = num.replace(",", "").replace(".", "")
    else:
        thousands = "," if dec == "." else "."
        cleaned = num.replace(thousands, "").replace(dec, ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    scale = 1 if currency in P.ZERO_DECIMAL else 100
    return int((value * scale).to_integral_value())


def _amount_from_match(m: re.Match[str]) -> tuple[int, str] | None:
    g = m.groupdict()
    num = g["num1"] or g["num2"] or g["num3"]
    code = g["code1"] or g["code2"] or g["code3"]
    sym = g["sym"] or g["sym2"] or g["sym3"]
    word = (g["word3"] or "").lower()
    if word in ("cent", "cents"):
        try:
            return int(Decimal(num.replace(",", ""))), "USD"
        except InvalidOperation:
            return None
    currency = code.upper() if code else (P.CURRENCY_SYMBOLS.get(sym) if sym else P.CURRENCY_WORDS.get(word))
    if not currency:
        return None
    minor = _to_minor(num, currency)
    return None if minor is None else (minor, currency)


def find_amounts(text: str) -> list[Amount]:
    out = []
    for m in P.AMOUNT_RE.finditer(text):
        parsed = _amount_from_match(m)
        if parsed:
            out.append(Amount(text=m.group(), minor=parsed[0], currency=parsed[1],
                              start=m.start(), end=m.end()))
    return out


def parse_amount(text: str, default_currency: str | None = None) -> tuple[int, str] | None:
    """First amount in ``text`` as (minor units, ISO currency), e.g. "$1,249.00" -> (124900, "USD").

    A bare number ("42.99") has no currency: it is accepted only if the caller supplies
    ``default_currency`` (the card's currency), otherwise None so the bot asks again.
    """
    if not text:
        return None
    m = P.AMOUNT_RE.search(text)
    if m:
        parsed = _amount_from_match(m)
        if parsed:
            return parsed
    if default_currency:
        bare = re.search(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:[.,]\d{1,2})?)(?![\d.,]*\d)", text)
        if bare:
            minor = _to_minor(bare.group(1), default_currency.upper())
            if minor is not None:
                return minor, default_currency.upper()
    return None


# ------------------------------------------------------------------------------------------------
# Dates

_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                 "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
                 "a couple of": 2, "couple of": 2, "a couple": 2, "a few": 3, "few": 3}
_WD = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues|tue|wed|thurs|thur|thu|fri|sat|sun)"
_NUMW = r"(?:\d{1,3}|a couple of|couple of|a couple|a few|few|an|a|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
_M = P.MONTH_NAME
_DATE_RES: list[tuple[str, re.Pattern[str]]] = [
    ("iso", re.compile(r"(?<![\d\-])(\d{4})-(\d{1,2})-(\d{1,2})(?![\d\-])")),
    ("numeric", re.compile(r"(?<![\d/.\-])(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})(?![\d/.\-]\d|\d)")),
    ("month_day", re.compile(rf"(?i)\b({_M})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}})\b)?")),
    ("day_month", re.compile(rf"(?i)\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_M})\b\.?(?:,?\s+(\d{{4}})\b)?")),
    ("md_short", re.compile(r"(?<![\d/.\-\w])(\d{1,2})/(\d{1,2})(?![\d/])")),
    ("ago", re.compile(rf"(?i)\b({_NUMW})\s+(day|week|month|year)s?\s+ago\b")),
    ("in_last", re.compile(rf"(?i)\b(?:in\s+the\s+|over\s+the\s+|within\s+the\s+)?(?:last|past)\s+({_NUMW})\s+(day|week|month)s\b")),
    ("rel_period", re.compile(r"(?i)\b(last|past|previous|this|earlier\s+this)\s+(week|weekend|month|year)\b")),
    ("weekday", re.compile(rf"(?i)\b(?:(last|this|past|on)\s+)?({_WD})\b\.?")),
    ("day_word", re.compile(r"(?i)\b(the\s+day\s+before\s+yesterday|day\s+before\s+yesterday|yesterday|today|tonight|this\s+morning|this\s+afternoon|this\s+evening|earlier\s+today|tomorrow)\b")),
]


def _past(y: int | None, month: int, day: int, today: date) -> date | None:
    """A date without a year is the latest such date not after today (transactions are past)."""
    try:
        if y is not None:
            if y < 100:
                y += 2000 if y < 70 else 1900
            return date(y, month, day)
        d = date(today.year, month, day)
        return d if d <= today else date(today.year - 1, month, day)
    except ValueError:
        return None


def _num(word: str) -> int:
    w = word.lower().strip()
    return int(w) if w.isdigit() else _NUMBER_WORDS.get(w, 1)


def _minus_months(d: date, n: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 - n, 12)
    m += 1
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def _resolve(kind: str, m: re.Match[str], today: date) -> tuple[date, date, bool] | None:
    g = m.groups()
    if kind == "iso":
        d = _past(int(g[0]), int(g[1]), int(g[2]), today)
    elif kind == "numeric":
        a, sep, b, y = int(g[0]), g[1], int(g[2]), int(g[3])
        # US month/day first unless impossible; dotted dates are European day.month.
        month, day = (b, a) if sep == "." or a > 12 else (a, b)
        d = _past(y, month, day, today)
    elif kind == "month_day":
        d = _past(int(g[2]) if g[2] else None, P.MONTHS[g[0].lower().rstrip(".")], int(g[1]), today)
    elif kind == "day_month":
        d = _past(int(g[2]) if g[2] else None, P.MONTHS[g[1].lower().rstrip(".")], int(g[0]), today)
    elif kind == "md_short":
        a, b = int(g[0]), int(g[1])
        d = _past(None, a, b, today) if a <= 12 else None
    elif kind == "ago":
        n, unit = _num(g[0]), g[1].lower()
        if unit == "day":
            d = today - timedelta(days=n)
        elif unit == "week":
            d = today - timedelta(weeks=n)
        elif unit == "month":
            d = _minus_months(today, n)
        else:
            d = _minus_months(today, 12 * n)
        return d, d, True
    elif kind == "in_last":
        n, unit = _num(g[0]), g[1].lower()
        start = today - timedelta(days=n) if unit == "day" else (
            today - timedelta(weeks=n) if unit == "week" else _minus_months(today, n))
        return start, today, True
    elif kind == "rel_period":
        which, unit = g[0].lower(), g[1].lower()
        this = which in ("this", "earlier this") or which.endswith("this")
        monday = today - timedelta(days=today.weekday())
        if unit == "week":
            start = monday if this else monday - timedelta(weeks=1)
            end = today if this else start + timedelta(days=6)
        elif unit == "weekend":
            # "this weekend" while in one is the current one; otherwise the one just past.
            sat = monday + timedelta(days=5) if this and today.weekday() >= 5 else monday - timedelta(days=2)
            start, end = sat, min(sat + timedelta(days=1), today)
        elif unit == "month":
            first = today.replace(day=1)
            start = first if this else _minus_months(first, 1)
            end = today if this else first - timedelta(days=1)
        else:
            start = date(today.year if this else today.year - 1, 1, 1)
            end = today if this else date(today.year - 1, 12, 31)
        return start, end, True
    elif kind == "weekday":
        which, wd = (g[0] or "").lower(), P.WEEKDAYS[g[1].lower()]
        delta = (today.weekday() - wd) % 7
        if which in ("last", "past") and delta == 0:
            delta = 7
        d = today - timedelta(days=delta)
        return d, d, True
    else:  # day_word
        w = " ".join(g[0].lower().split())
        if "before" in w:
            d = today - timedelta(days=2)
        elif w == "yesterday":
            d = today - timedelta(days=1)
        elif w == "tomorrow":
            d = today + timedelta(days=1)
        else:
            d = today
        return d, d, True
    if d is None:
        return None
    return d, d, False


def find_dates(text: str, today: date | None = None, hemisphere: DW.Hemisphere = "north") -> list[DateMention]:
    """Every date phrase in ``text``: loose ones first (seasons, holidays, "a few weeks back":
    nlp.date_words; "black friday" is not last Friday), then exact ones; ``hemisphere`` places the seasons."""
    today = today or date.today()
    out: list[DateMention] = []
    taken: list[tuple[int, int]] = []
    for kind, rx in DW.PATTERNS + _DATE_RES:
        for m in rx.finditer(text):
            s, e = m.span()
            if any(ts < e and s < te for ts, te in taken):
                continue
            if kind == "weekday" and m.group(2).lower() in ("sat", "sun", "wed", "mon") and not m.group(1) \
                    and not m.group(2)[0].isupper():
                continue  # "sat on hold", "sun": lowercase short forms are words, not days
            if kind == "month_day" and m.group(1).lower() == "may" and not m.group(1)[0].isupper():
                continue  # "may 3 items" is the verb
            res = DW.resolve(kind, m, today, hemisphere) if kind in DW.KINDS else _resolve(kind, m, today)
            if res is None:
                continue
            start, end, relative = res
            taken.append((s, e))
            out.append(DateMention(text=m.group().strip(), start=s, end=e,
                                   date=start if start == end else None,
                                   date_from=start, date_to=end, relative=relative))
    out.sort(key=lambda d: d.start)
    return out


def parse_date_span(text: str, today: date | None = None,
                    hemisphere: DW.Hemisphere = "north") -> tuple[date, date] | None:
    """First date phrase in ``text`` as an inclusive (from, to) range."""
    found = find_dates(text or "", today, hemisphere)
    return (found[0].date_from, found[0].date_to) if found else None


def parse_date_phrase(text: str, today: date | None = None) -> date | None:
    """First date phrase in ``text`` as one day ("yesterday", "3rd of March", "03/03/2026").

    A range phrase ("last week") returns its first day: the earliest day a transaction described
    that way can be on, which is what a transaction search needs as its lower bound. Callers that
    need both ends use ``parse_date_span``.
    """
    span = parse_date_span(text, today)
    return span[0] if span else None


# ------------------------------------------------------------------------------------------------
# Merchants, card last 4, ids

_LAST4_RES = [
    re.compile(r"(?i)\b(?:ending|ends|end)(?:\s+(?:in|with|on))?\s*[:#\-]?\s*(\d{4})(?!\d)"),
    re.compile(r"(?i)\blast\s+(?:four|4)(?:\s+digits)?(?:\s+(?:are|is|were|of\s+(?:my|the)\s+card))?"
               r"\s*[:#\-]?\s*(\d{4})(?!\d)"),
    re.compile(r"(?<![A-Za-z0-9])(?:[xX]{1,12}|[*\u2022\u00b7]{2,12})[ \-]?(\d{4})(?!\d)"),
    re.compile(r"\[CARD \*{4}(\d{4})\]"),
]
def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def extract_entities(text: str, today: date | None = None) -> Entities:
    """All dispute entities in ``text`` (ideally already redacted), dates resolved against today."""
    if not text:
        return Entities()
    from nlp.redact import get_pipeline

    doc = get_pipeline()(text, assigns={"ents"})
    ruler_ents = [(ent.text, ent.start, ent.end, ent.ent_id) for ent in doc.ents if ent.label == "MERCHANT"]
    last4: list[str] = []
    for rx in _LAST4_RES:
        last4 += [(m.start(1), m.group(1)) for m in rx.finditer(text)]  # type: ignore[misc]
    last4_sorted = [v for _, v in sorted(last4)]  # type: ignore[misc]
    return Entities(
        amounts=find_amounts(text),
        dates=find_dates(text, today),
        merchants=find_merchants(text, ruler_ents),
        card_last4=_unique(last4_sorted),
        transaction_ids=_unique([m.group() for m in P.TXN_ID_RE.finditer(text)]),
        case_ids=_unique([m.group().upper() for m in P.CASE_ID_RE.finditer(text)]),
        handoff_ids=_unique([m.group().upper() for m in P.HANDOFF_ID_RE.finditer(text)]),
    )
