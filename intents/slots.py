"""Reading what the customer typed into slots: amounts, dates, and the search criteria in a phrase.

Customers answer "which payment?" with "the $42.99 one from Amazon yesterday"; Lex puts all of it
in one slot, so the pieces are pulled out here, once, for every intent. A card number is never read
as an amount, a date or a merchant.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date

from chalicelib.core.pci import contains_pan, find_pans
from chalicelib.payments.categories import Category, find_category
from intents.dialog import Turn, now_of
from intents.replies import day, money


@dataclass
class Criteria:
    merchant: str | None = None
    amount_minor: int | None = None
    on: date | None = None  # the first day the customer's words allow
    last4: str | None = None
    until: date | None = None  # the last day ("last summer" is a span); None: the same day as ``on``
    category: Category | None = None  # the kind of merchant ("the gas station")
    amount_approx: str | None = None  # "whole" (no cents said) or "about" ("about 200 bucks"); see search

    @property
    def empty(self) -> bool:
        return not (self.merchant or self.amount_minor or self.on or self.last4 or self.category)

    def but(self, **changes) -> "Criteria":
        return replace(self, **changes)

    def describe(self) -> str:
        parts = []
        if self.merchant:
            parts.append(f"from {self.merchant}")
        if self.category:
            parts.append(f"at a {self.category.label}")
        if self.amount_minor:
            parts.append(f"for {money(self.amount_minor)}")
        if self.on and self.until and self.until != self.on:
            parts.append(f"between {day(self.on)} and {day(self.until)}")
        elif self.on:
            parts.append(f"on {day(self.on)}")
        if self.last4:
            parts.append(f"on the card ending {self.last4}")
        return " ".join(parts) or "matching that"


_APPROX = re.compile(r"\b(about|around|roughly|approx\w*|circa|something like|or so)\b|~|\blike\s+[$€£]?\d|\d\s*-?ish\b", re.I)
_LAST4 = re.compile(r"(?:ending(?: in)?|last (?:4|four)(?: digits)?|x|\*{2,4})\s*(\d{4})\b", re.I)
_FILLER = re.compile(
    r"\b(the|a|an|my|one|payment|charge|transaction|purchase|from|at|to|on|of|for|card|it|was|"
    r"i|paid|made|ending|in|with|that|this|yesterday|today|last|ago|days?|week|dollars?|bucks|usd)\b",
    re.I,
)


def parse_amount_text(text: str | None) -> int | None:
    """An amount typed in a slot; a card number is never read as one (it is not money)."""
    if not text or contains_pan(str(text)):
        return None
    from nlp.entities import parse_amount

    found = parse_amount(text, default_currency="USD")
    if found:
        return found[0]
    try:
        value = float(str(text).replace(",", "").replace("$", "").strip())
    except ValueError:
        return None
    if value <= 0 or value > 10_000_000:
        return None
    return int(round(value * 100))


def parse_date_text(text: str | None, today: date) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(str(text).strip()[:10])
    except ValueError:
        pass
    from nlp.entities import parse_date_phrase

    return parse_date_phrase(str(text), today)


def amount_in_phrase(text: str) -> int | None:
    """An amount in a free phrase: "$42.99", "42.99 dollars", or a bare "899" / "the 58.20 one".

    Four-digit bare numbers are left alone (card endings, years); dates and card numbers are
    stripped first."""
    from nlp.entities import parse_amount

    text = without_pans(text)

    found = parse_amount(text)
    if found:
        return found[0]
    cleaned = re.sub(r"\b\d{1,4}[/-]\d{1,2}(?:[/-]\d{2,4})?\b", " ", text)
    m = re.search(r"(?<![\w.])(\d{1,3}(?:,\d{3})*(?:\.\d{1,2})?|\d{1,3}\.\d{1,2})(?![\w.])", cleaned)
    if not m:
        return None
    value = float(m.group(1).replace(",", ""))
    return int(round(value * 100)) if value > 0 else None


def criteria_from_turn(turn: Turn, text_slot: str = "Merchant", text: str | None = None) -> Criteria:
    """Combine the structured slots with whatever the free-text slot also says.

    Customers answer "which payment?" with "the $42.99 one from Amazon yesterday"; Lex puts all
    of that in one slot, so amounts, dates and card digits are pulled out of it as well.
    """
    today = now_of(turn).date()
    text = without_pans((turn.slot(text_slot) or "") if text is None else text)
    crit = Criteria(amount_minor=parse_amount_text(turn.slot("Amount")), last4=(turn.slot("CardLast4") or None))
    # Lex resolves "last summer" to one day; the words the customer typed give the whole span.
    said_date = (turn.original_slots or {}).get("TransactionDate") or turn.slot("TransactionDate")
    span = date_span(said_date, today) if said_date else None
    if span is None and turn.slot("TransactionDate"):
        one = parse_date_text(turn.slot("TransactionDate"), today)
        span = (one, one) if one else None
    if text:
        if crit.amount_minor is None and re.search(r"\d", text):
            crit.amount_minor = amount_in_phrase(_LAST4.sub(" ", text))
        if span is None:
            span = date_span(text, today)
        m = _LAST4.search(text)
        if m and not crit.last4:
            crit.last4 = m.group(1)
        merchant = _without_dates(_LAST4.sub(" ", text), today)
        merchant = re.sub(r"[$€£]?\d[\d,]*(?:\.\d+)?", " ", merchant)
        merchant = re.sub(r"\b(mon|tues|wednes|thurs|fri|satur|sun)day\b", " ", merchant, flags=re.I)
        found = find_category(merchant)
        if found:
            crit.category, merchant = found
        merchant = _FILLER.sub(" ", merchant)
        merchant = " ".join(merchant.split())
        if len(merchant) >= 2:
            crit.merchant = merchant
    if span:
        crit.on, crit.until = span
    if crit.amount_minor:
        said = f"{(turn.original_slots or {}).get('Amount') or turn.slot('Amount') or ''} {text or ''}"
        if _APPROX.search(said):
            crit.amount_approx = "about"
        elif crit.amount_minor % 100 == 0 and not re.search(r"\d[.,]\d{2}(?!\d)", said):
            crit.amount_approx = "whole"
    if crit.last4 and not re.fullmatch(r"\d{4}", crit.last4):
        crit.last4 = None
    return crit


def _hemisphere() -> str:
    from chalicelib.core.settings import get_settings

    return get_settings().payment_search_hemisphere


def date_span(text: str | None, today: date) -> tuple[date, date] | None:
    """The days a phrase allows ("yesterday", "last summer", "around christmas"), or None."""
    if not text:
        return None
    try:
        one = date.fromisoformat(str(text).strip()[:10])
        return one, one
    except ValueError:
        pass
    from nlp.entities import parse_date_span

    return parse_date_span(str(text), today, _hemisphere())


def _without_dates(text: str, today: date) -> str:
    """The phrase with its date words blanked, so "last summer" is never read as a merchant."""
    from nlp.entities import find_dates

    for d in sorted(find_dates(text, today, _hemisphere()), key=lambda d: -d.start):
        text = text[:d.start] + " " + text[d.end:]
    return text


def without_pans(text: str) -> str:
    """The text with card numbers blanked, so no digit of one is read as an amount, date or merchant."""
    out, pos = [], 0
    for sp in find_pans(text or ""):
        out.append(text[pos:sp.start] + " ")
        pos = sp.end
    return "".join(out) + (text or "")[pos:]
