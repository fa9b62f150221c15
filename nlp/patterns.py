"""Regular expressions and checksum validators shared by redaction and entity extraction.

Kept free of the tokenizer and matchers so that the log scrubber (``scrub_pans``) and the chat slot validators can use
them without paying for a pipeline. Checksums (Luhn, ABA, IBAN mod-97) are what separate a card or
bank number from an order number; context words are what separate a CVV from a quantity.
"""
from __future__ import annotations

import re
# The card-number finder and the CVV / SSN / IBAN / id patterns live in chalicelib.core.pci (standard library
# only, shared with the outbound guard); re-exported here so detectors and the guard cannot disagree.
from chalicelib.core.pci import (  # noqa: F401  (re-exported)
    CASE_ID_RE,
    CVV_AFTER_RE,
    CVV_RE,
    HANDOFF_ID_RE,
    IBAN_LENGTHS,
    IBAN_RE,
    PAN_RUN_RE,
    SSN_CONTEXT_RE,
    SSN_RE,
    TXN_ID_RE,
    Span,
    drop_last4,
    find_ibans,
    find_pans,
    guard_text,
    iban_valid,
    luhn_valid,
    scrub_pans,
    split_card_cvv,
)

# --------------------------------------------------------------------------------------------
# Checksums


def aba_valid(digits: str) -> bool:
    """ABA routing check digit: 3-7-1 weights; plus the Federal Reserve prefix ranges."""
    if len(digits) != 9 or not digits.isdigit():
        return False
    prefix = int(digits[:2])
    if not (0 <= prefix <= 12 or 21 <= prefix <= 32 or 61 <= prefix <= 72 or prefix == 80):
        return False
    d = [int(c) for c in digits]
    return (3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + (d[2] + d[5] + d[8])) % 10 == 0


def _has_context(text: str, start: int, end: int, pattern: re.Pattern[str], before: int,
                 after: int = 0) -> bool:
    return bool(pattern.search(text, max(0, start - before), start)) or (
        after > 0 and bool(pattern.search(text, end, min(len(text), end + after))))


_MMYY = r"(?:0?[1-9]|1[0-2])\s?[/\-]\s?(?:20)?\d{2}"
EXPIRY_KW_RE = re.compile(
    r"(?i)\b(?:exp(?:iry|iration|ires|\.)?(?:\s+date)?|valid\s+(?:thru|through|until)|good\s+thru)"
    rf"\b[^\d\n]{{0,12}}?(?<![\d/])({_MMYY})(?![\d/])")
MMYY_RE = re.compile(r"(?<![\d/.\-])((?:0[1-9]|1[0-2])\s?/\s?(?:20)?\d{2})(?![\d/])")
CARD_CONTEXT_RE = re.compile(r"(?i)\b(?:card|visa|mastercard|amex|discover|cvv|cvc|exp)\b|\[CARD ")

ROUTING_RE = re.compile(r"(?<![\d\-])(\d{9})(?![\d\-])")
ROUTING_CONTEXT_RE = re.compile(r"(?i)\b(?:routing|aba|rtn|transit|bank\s+code|sort\s+code)\b")

ACCOUNT_RE = re.compile(
    r"(?i)\b(?:account|acct|a/c|acc)\b\.?(?:\s*(?:number|num|no\.?|nr|#))?\s*(?:is\s+|:|#|=)?\s*"
    r"(?<!\d)(\d(?:[ \-]?\d){5,16})(?!\d)")

EMAIL_RE = re.compile(r"(?<![\w.%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,24}")

PHONE_INTL_RE = re.compile(r"(?<![\w+])(?:\+|00)\d{1,3}(?:[ .\-]?\(?\d{1,5}\)?){2,6}(?!\d)")
PHONE_US_RE = re.compile(
    r"(?<![\w\-.])(?:\+?1[ .\-]?)?(?:\(\d{3}\)[ ]?|\d{3}[ .\-])\d{3}[ .\-]\d{4}(?![\d\-])")
PHONE_BARE_RE = re.compile(r"(?<![\w\-.])(?:0\d{2,4}[ \-]?\d{3,4}[ \-]?\d{3,4}|\d{10})(?![\d\-])")
# National formats written without any "phone" word: the French 0X XX XX XX XX (pairs, one separator
# kept throughout) and the Chinese mobile 1[3-9]X-XXXX-XXXX. Both shapes are distinctive enough on
# their own; a bare run of the same digits still needs a phone word (PHONE_BARE_RE).
PHONE_FR_RE = re.compile(r"(?<![\w+\-.,/])0[1-9]([ .\-])\d{2}(?:\1\d{2}){3}(?![\w\-]|[.,/]\d)")
PHONE_CN_RE = re.compile(r"(?<![\w+\-.,/])1[3-9]\d([ \-])\d{4}\1\d{4}(?![\w\-]|[.,/]\d)")
# A number right after the label of another identifier is that identifier, not a phone number
# ("my loan number is 7730018842", "loan 0049-221-7786", "policy no. 555-201-7788").
NOT_PHONE_LABEL_RE = re.compile(
    r"(?i)\b(?:loan|mortgage|policy|member(?:ship)?|contract|claim|application|reference|ref|invoice|order|"
    r"tracking|confirmation|case|ticket|customer|client|serial|model|booking|reservation|student|escrow)"
    r"(?:\s+(?:account|acct))?\s*(?:number|num|no\.?|nr\.?|#|id)?\s*(?:is|was|[:#=])?\s*$")
PHONE_CONTEXT_RE = re.compile(
    r"(?i)\b(?:phone|tel|telephone|mobile|cell|call(?:ed)?|text|reach\s+me|whats\s*app|fax|number\s+is)\b")

_STREET_SUFFIX = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|"
    r"Terrace|Ter|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|Close|Crescent|Row|Trail|Trl)")
ADDRESS_RE = re.compile(
    r"(?<![\w$€£¥.,])\d{1,6}[A-Za-z]?\s+(?:[A-Z0-9][A-Za-z0-9'\-]*\.?\s+){1,4}?" + _STREET_SUFFIX +
    r"\b\.?"
    r"(?:,?\s*(?:Apt|Apartment|Suite|Ste|Unit|Fl|Floor|#)\.?\s*#?[A-Za-z0-9\-]+)?"
    r"(?:,?\s+[A-Z][a-z]+(?:\s+[A-Z][a-z]+){0,2},?\s+[A-Z]{2}\s+\d{5}(?:-\d{4})?)?")
PO_BOX_RE = re.compile(r"(?i)\bP\.?\s?O\.?\s+Box\s+\d{1,7}\b")

MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
    "sep": 9, "sept": 9, "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12,
    "dec": 12,
}
MONTH_NAME = (r"(?:january|february|march|april|may|june|july|august|september|october|november|"
              r"december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)")
_DATE_EXPR = (
    rf"(?:\d{{4}}-\d{{1,2}}-\d{{1,2}}|\d{{1,2}}[/.\-]\d{{1,2}}[/.\-]\d{{2,4}}"
    rf"|{MONTH_NAME}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTH_NAME}\.?,?\s+\d{{4}})")
DOB_RE = re.compile(
    r"(?i)\b(?:born(?:\s+on)?|d\.?o\.?b\.?|date\s+of\s+birth|birth\s*date|birthday)"
    rf"(?:\s*(?:is|was|:|-|=))?\s*({_DATE_EXPR})")

# --------------------------------------------------------------------------------------------
# Things that must never be redacted (amounts, ids, transaction dates)

CURRENCY_SYMBOLS = {"US$": "USD", "CA$": "CAD", "C$": "CAD", "AU$": "AUD", "A$": "AUD",
                    "$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR"}
CURRENCY_CODES = ("USD", "EUR", "GBP", "JPY", "CAD", "AUD", "CHF", "CNY", "INR", "MXN", "SEK",
                  "NOK", "DKK", "PLN", "NZD", "SGD", "HKD")
CURRENCY_WORDS = {"dollar": "USD", "dollars": "USD", "bucks": "USD", "usd": "USD",
                  "euro": "EUR", "euros": "EUR", "pound": "GBP", "pounds": "GBP", "quid": "GBP",
                  "yen": "JPY", "cent": "USD¢", "cents": "USD¢"}
ZERO_DECIMAL = {"JPY"}

_NUM = (r"(?:\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?(?![\d,])|\d{1,3}(?:\.\d{3})+,\d{1,2}(?!\d)"
        r"|\d{1,3}(?:\.\d{3})+(?![\d,.])|\d+(?:[.,]\d{1,2})?(?!\d))")
_SYM = r"(?:US\$|CA\$|AU\$|C\$|A\$|\$|€|£|¥|₹)"
_CODE = "(?:" + "|".join(CURRENCY_CODES) + ")"
_WORD = r"(?:dollars?|bucks|euros?|pounds?|quid|yen|cents?)"
AMOUNT_RE = re.compile(
    rf"(?P<sym>{_SYM})\s?(?P<num1>{_NUM})(?:\s?(?P<code1>{_CODE})\b)?"
    rf"|\b(?P<code2>{_CODE})\s?(?P<sym2>{_SYM})?\s?(?P<num2>{_NUM})"
    rf"|(?<![\w.,])(?P<num3>{_NUM})\s?(?:(?P<code3>{_CODE})\b|(?P<sym3>{_SYM})|(?P<word3>(?i:{_WORD}))\b)")

NUMERIC_DATE_RE = re.compile(
    r"(?<![\d/.\-])(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}(?:/\d{2,4})?|\d{1,2}\.\d{1,2}\.\d{4})"
    r"(?![\d/])")


def protected_spans(text: str) -> list[tuple[int, int]]:
    """Amounts, case/handoff/transaction ids and numeric dates: the facts a dispute depends on."""
    spans: list[tuple[int, int]] = []
    for rx in (AMOUNT_RE, CASE_ID_RE, HANDOFF_ID_RE, TXN_ID_RE, NUMERIC_DATE_RE):
        spans.extend(m.span() for m in rx.finditer(text))
    return spans


# --------------------------------------------------------------------------------------------
# Detectors (each returns character spans; the pipeline's resolver, nlp.components, arbitrates overlaps)


def detect_cvv(text: str, cards: list[Span]) -> list[Span]:
    out = [Span(*m.span(1), "CVV") for m in CVV_RE.finditer(text)]
    out += [Span(*m.span(1), "CVV") for m in CVV_AFTER_RE.finditer(text)]
    return drop_last4(text, out)


def detect_expiry(text: str, cards: list[Span], window: int) -> list[Span]:
    out = [Span(*m.span(1), "EXPIRY") for m in EXPIRY_KW_RE.finditer(text)]
    for m in MMYY_RE.finditer(text):
        s, e = m.span(1)
        near_card = any(c.end <= s and s - c.end <= window or e <= c.start and c.start - e <= window
                        for c in cards)
        if near_card or _has_context(text, s, e, CARD_CONTEXT_RE, window, window // 2):
            out.append(Span(s, e, "EXPIRY"))
    return out


def detect_iban(text: str) -> list[Span]:
    return find_ibans(text)


def detect_ssn(text: str, window: int) -> list[Span]:
    out = []
    for m in SSN_RE.finditer(text):
        if m.group(2) == "-" or _has_context(text, m.start(), m.end(), SSN_CONTEXT_RE, window):
            out.append(Span(*m.span(), "SSN"))
    return out


def detect_routing(text: str, window: int) -> list[Span]:
    return [Span(*m.span(1), "ROUTING") for m in ROUTING_RE.finditer(text)
            if aba_valid(m.group(1)) and _has_context(text, m.start(), m.end(), ROUTING_CONTEXT_RE, window)]


def detect_account(text: str) -> list[Span]:
    return [Span(*m.span(1), "ACCOUNT") for m in ACCOUNT_RE.finditer(text)]


def detect_email(text: str) -> list[Span]:
    return [Span(*m.span(), "EMAIL") for m in EMAIL_RE.finditer(text)]


def detect_phone(text: str, window: int) -> list[Span]:
    out = []
    for m in PHONE_INTL_RE.finditer(text):
        n = sum(ch.isdigit() for ch in m.group())
        if 8 <= n <= 15:
            out.append(Span(*m.span(), "PHONE"))
    out += [Span(*m.span(), "PHONE") for m in PHONE_US_RE.finditer(text)]
    out += [Span(*m.span(), "PHONE") for rx in (PHONE_FR_RE, PHONE_CN_RE) for m in rx.finditer(text)]
    for m in PHONE_BARE_RE.finditer(text):
        if _has_context(text, m.start(), m.end(), PHONE_CONTEXT_RE, window):
            out.append(Span(*m.span(), "PHONE"))
    return [s for s in out if not NOT_PHONE_LABEL_RE.search(text, max(0, s.start - 40), s.start)]


def detect_address(text: str) -> list[Span]:
    return ([Span(*m.span(), "ADDRESS") for m in ADDRESS_RE.finditer(text)]
            + [Span(*m.span(), "ADDRESS") for m in PO_BOX_RE.finditer(text)])


def detect_dob(text: str) -> list[Span]:
    return [Span(*m.span(1), "DOB") for m in DOB_RE.finditer(text)]


# Priority when spans overlap: the more sensitive / more specific type wins.
PRIORITY = ("CARD", "IBAN", "CVV", "EXPIRY", "SSN", "DOB", "ROUTING", "ACCOUNT", "EMAIL", "PHONE",
            "ADDRESS", "NAME")

# Small built-in merchant list for the EntityRuler (chalicelib.payments.merchants adds the real catalogue).
KNOWN_MERCHANTS = (
    "Amazon", "Amazon Prime", "Apple", "App Store", "iTunes", "Google", "Google Play", "Netflix",
    "Spotify", "Hulu", "Disney+", "Uber", "Uber Eats", "Lyft", "DoorDash", "Grubhub", "Airbnb",
    "Booking.com", "Expedia", "eBay", "PayPal", "Walmart", "Target", "Costco", "Best Buy",
    "Starbucks", "McDonald's", "Whole Foods", "Trader Joe's", "Home Depot", "IKEA", "Shell",
    "Chevron", "Delta", "United Airlines", "American Airlines", "Southwest", "Ryanair", "easyJet",
    "Microsoft", "Xbox", "PlayStation", "Steam", "Adobe", "Dropbox", "Zoom", "Etsy", "Shopify",
    "AliExpress", "Temu", "Shein", "Zara", "H&M", "Nike", "Adidas", "Sephora", "CVS", "Walgreens",
    "Instacart", "Peloton", "Audible", "YouTube", "Tesco", "Sainsbury's", "Deliveroo", "Just Eat",
)

# Weekday names and their short forms → Monday-based index (dates and merchant heuristics read them).
WEEKDAYS = {"monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2, "wed": 2,
            "thursday": 3, "thu": 3, "thur": 3, "thurs": 3, "friday": 4, "fri": 4,
            "saturday": 5, "sat": 5, "sunday": 6, "sun": 6}
