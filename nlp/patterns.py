"""Regular expressions and checksum validators shared by redaction and entity extraction.

Kept free of spaCy so that the log scrubber (``scrub_pans``) and the chat slot validators can use
them without paying for a pipeline. Checksums (Luhn, ABA, IBAN mod-97) are what separate a card or
bank number from an order number; context words are what separate a CVV from a quantity.
"""
from __future__ import annotations

import re
from chalicelib.pci import PAN_RUN_RE, Span, find_pans, luhn_valid, scrub_pans  # noqa: F401  (re-exported)

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


# ISO 13616 lengths for the countries a card-dispute desk sees most; others fall back to 15-34.
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
    if len(compact) < 15 or len(compact) > 34 or not compact.isalnum():
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


def _has_context(text: str, start: int, end: int, pattern: re.Pattern[str], before: int,
                 after: int = 0) -> bool:
    return bool(pattern.search(text, max(0, start - before), start)) or (
        after > 0 and bool(pattern.search(text, end, min(len(text), end + after))))


CVV_RE = re.compile(
    r"(?i)\b(?:cvv2?|cvc2?|cvn|cid|csc|security\s+code|card\s+verification(?:\s+(?:value|code|number))?)"
    r"\b[^\d\n]{0,20}?(?<!\d)(\d{3,4})(?!\d)")
CVV_AFTER_RE = re.compile(
    r"(?i)(?<![\d$€£¥.,])(\d{3,4})(?![\d.,])\s+(?:is\s+)?(?:the\s+|my\s+)?(?:cvv2?|cvc2?|security\s+code)\b")

_MMYY = r"(?:0?[1-9]|1[0-2])\s?[/\-]\s?(?:20)?\d{2}"
EXPIRY_KW_RE = re.compile(
    r"(?i)\b(?:exp(?:iry|iration|ires|\.)?(?:\s+date)?|valid\s+(?:thru|through|until)|good\s+thru)"
    rf"\b[^\d\n]{{0,12}}?(?<![\d/])({_MMYY})(?![\d/])")
MMYY_RE = re.compile(r"(?<![\d/.\-])((?:0[1-9]|1[0-2])\s?/\s?(?:20)?\d{2})(?![\d/])")
CARD_CONTEXT_RE = re.compile(r"(?i)\b(?:card|visa|mastercard|amex|discover|cvv|cvc|exp)\b|\[CARD ")

IBAN_RE = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,34}")

SSN_RE = re.compile(r"(?<![\d\-])(?!000|666|9\d\d)(\d{3})([- ]?)(?!00)(\d{2})\2(?!0000)(\d{4})(?![\d\-])")
SSN_CONTEXT_RE = re.compile(r"(?i)\b(?:ssn|social\s+security|ss#|tax\s*id|tin)\b")

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

CASE_ID_RE = re.compile(r"(?i)\bDSP-[A-Z0-9]{4,12}\b")
HANDOFF_ID_RE = re.compile(r"(?i)\bHND-[A-Z0-9]{4,12}\b")
TXN_ID_RE = re.compile(r"(?i)\btxn[-_][A-Za-z0-9](?:[A-Za-z0-9_\-]*[A-Za-z0-9])?")

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
# Detectors (each returns character spans; the spaCy resolver arbitrates overlaps)


def detect_cvv(text: str, cards: list[Span]) -> list[Span]:
    out = [Span(*m.span(1), "CVV") for m in CVV_RE.finditer(text)]
    out += [Span(*m.span(1), "CVV") for m in CVV_AFTER_RE.finditer(text)]
    return out


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
    out: list[Span] = []
    for m in IBAN_RE.finditer(text):
        cand = m.group()
        positions = [i for i, ch in enumerate(cand) if ch != " "]
        compact = "".join(cand[i] for i in positions)
        lengths = [IBAN_LENGTHS[compact[:2]]] if compact[:2] in IBAN_LENGTHS else range(
            min(34, len(compact)), 14, -1)
        for n in lengths:
            if n <= len(compact) and iban_valid(compact[:n]):
                out.append(Span(m.start(), m.start() + positions[n - 1] + 1, "IBAN"))
                break
    return out


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
    for m in PHONE_BARE_RE.finditer(text):
        if _has_context(text, m.start(), m.end(), PHONE_CONTEXT_RE, window):
            out.append(Span(*m.span(), "PHONE"))
    return out


def detect_address(text: str) -> list[Span]:
    return ([Span(*m.span(), "ADDRESS") for m in ADDRESS_RE.finditer(text)]
            + [Span(*m.span(), "ADDRESS") for m in PO_BOX_RE.finditer(text)])


def detect_dob(text: str) -> list[Span]:
    return [Span(*m.span(1), "DOB") for m in DOB_RE.finditer(text)]


# Priority when spans overlap: the more sensitive / more specific type wins.
PRIORITY = ("CARD", "IBAN", "CVV", "EXPIRY", "SSN", "DOB", "ROUTING", "ACCOUNT", "EMAIL", "PHONE",
            "ADDRESS", "NAME")

# Small built-in merchant list for the EntityRuler (chalicelib.merchants adds the real catalogue).
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
