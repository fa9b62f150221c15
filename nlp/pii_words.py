"""Card security codes and social security numbers that are *described* rather than labelled.

Why a module of its own beside ``nlp.patterns``: the pattern detectors find a CVV when it is
called one ("CVV 123", "123 is the security code") and an SSN when it is dashed or follows "SSN".
Customers write "the 3 digits on the back are 482", "code on the reverse: 0917", "los tres
dígitos del reverso son 771", "my social is 123 45 6789", "ss# 123456789". PCI DSS says the
security code is never stored after authorisation, so these must go too. Here a *trigger* (any
way of saying "security code" or "social security number", in English or Spanish) makes a nearby
number of the right shape PII, whether the number comes before or after the trigger; digits may
be grouped any way, or spelled out ("four eight two").

What must never be taken: amounts, dates, case/transaction ids and order references (an Amazon
order number looks like a phone number). ``nlp.patterns.protected_spans`` plus ``ORDER_REF_RE``
are checked before a number is redacted, and ``keep_order_refs`` lets ``nlp.redact`` drop a
phone/account guess that overlaps an order reference.
"""
from __future__ import annotations

import re
from typing import Iterable

from chalicelib.core.pci import not_a_cvv, split_card_cvv
from nlp.patterns import MONTH_NAME, Span, protected_spans

__all__ = ["CVV_TRIGGER_RE", "SSN_TRIGGER_RE", "ORDER_REF_RE", "detect_cvv_words", "detect_ssn_words",
           "order_ref_spans", "merge_spans"]

WINDOW_AFTER = 45  # characters after a trigger where its number may start
WINDOW_BEFORE = 30  # characters before a trigger where its number may end

_DIGIT_WORDS = ("zero|oh|one|two|three|four|five|six|seven|eight|nine|"
                "cero|uno|dos|tres|cuatro|cinco|seis|siete|ocho|nueve")
_SPELLED = rf"(?:{_DIGIT_WORDS})"

CVV_TRIGGER_RE = re.compile(
    r"(?i)\b(?:cvv\s?2?|cvc\s?2?|cvn|csc|cid|v-?code"
    r"|security\s+(?:code|number|digits|no\.?|#|pin)|sec(?:urity)?\.?\s+code"
    r"|card\s+(?:verification|validation|security)(?:\s+(?:value|code|number))?"
    r"|verification\s+(?:code|value|number|digits)"
    r"|(?:\d|three|four|3|4)[-\s]?digits?(?:\s+(?:code|number))?\s+(?:on|at|from|in)\s+(?:the\s+)?(?:back|reverse|rear|front)"
    r"|(?:code|number|digits|numbers)\s+(?:on|at|from|in)\s+(?:the\s+)?(?:back|reverse|rear|signature\s+(?:strip|panel))"
    r"|(?:back|reverse|rear)\s+of\s+(?:the|my)\s+card\s+(?:says|reads|shows|has)"
    r"|c[óo]digo\s+(?:de\s+)?(?:seguridad|verificaci[óo]n|cvv|cvc)|clave\s+de\s+seguridad|n[úu]mero\s+de\s+seguridad"
    r"|(?:tres|cuatro|3|4)\s+d[íi]gitos\s+(?:del|de\s+atr[áa]s|en\s+el|de\s+la\s+parte)(?:\s+(?:reverso|dorso|atr[áa]s|parte\s+de\s+atr[áa]s|posterior))?"
    r"|d[íi]gitos\s+del\s+(?:reverso|dorso))")

SSN_TRIGGER_RE = re.compile(
    r"(?i)(?:\bssn\b|\bs\.s\.n\.?|\bss\s?#|\bss\s+(?:no|num|number)\b\.?|\bsoc\.?\s+sec(?:urity\b|\.|\b)"
    r"|\bsocial\s+security\b(?:\s+(?:number|no\.?|#|num))?|\bmy\s+social\b|\bsocial\s+(?:is|was|number|no\.?|#|:)"
    r"|\bsocial\s*:|\(social\s+security\)|\btax(?:payer)?\s+id(?:entification)?(?:\s+number)?\b|\bitin\b"
    r"|\bseguro\s+social\b|\bn[úu]mero\s+de\s+seguro\b|\bnss\b)")

# A 3-4 digit code: digits (optionally spaced or dashed one by one) or spelled-out digits.
_CVV_NUM_RE = re.compile(
    rf"(?i)(?<![\w$€£¥.,/:#\-])(?:\d{{3,4}}|\d(?:[ \-]\d){{2,3}}|{_SPELLED}(?:[\s,\-]+{_SPELLED}){{2,3}})"
    r"(?![\w%/]|[.,]\d|\s?(?:dollars?|usd|eur|euros?|pesos?|gbp|bucks))")
# Nine digits in any grouping (spaces, dashes, dots, slashes), or spelled out.
_SSN_NUM_RE = re.compile(
    rf"(?i)(?<![\w$€£¥.,/\-])(?:\d(?:[ .\-/]{{0,3}}\d){{8}}|{_SPELLED}(?:[\s,\-]+{_SPELLED}){{8}})(?![\w%]|[.,/\-]\d)")
# "last four of my social is 6789": a partial SSN is still an SSN.
_SSN_LAST4_RE = re.compile(
    r"(?i)\blast\s+(?:4|four)(?:\s+digits)?\s+(?:of\s+)?(?:my\s+|the\s+)?(?:ssn|social(?:\s+security)?(?:\s+number)?|ss#?)"
    r"\b[^\d\n]{0,15}?(?<!\d)(\d{4})(?!\d)")

ORDER_REF_RE = re.compile(
    r"(?i)\b(?:order|ord|confirmation|conf|booking|reservation|reference|ref|invoice|inv|tracking|ticket|receipt|"
    r"pedido|factura)\b\.?\s*(?:#|no\.?|nr\.?|number|num|id|ref|code|n[úu]mero)?\s*[:#]?\s*"
    r"([A-Z0-9](?:[A-Z0-9]|[\-./ ](?=[A-Z0-9])){3,40})")


# "March 3, 2026", "3 March 2026", "marzo de 2026": the year is not a security code.
WRITTEN_DATE_RE = re.compile(
    rf"(?i)\b{MONTH_NAME}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTH_NAME}\.?,?\s+\d{{4}}\b"
    r"|\b(?:enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre)\s+de\s+\d{4}\b")


def order_ref_spans(text: str) -> list[tuple[int, int]]:
    """Order, booking, invoice and tracking references: kept as written."""
    return [m.span(1) for m in ORDER_REF_RE.finditer(text) if any(ch.isdigit() for ch in m.group(1))]


def _keep(text: str) -> list[tuple[int, int]]:
    return protected_spans(text) + order_ref_spans(text) + [m.span() for m in WRITTEN_DATE_RE.finditer(text)]


def _overlaps(s: int, e: int, spans: Iterable[tuple[int, int]]) -> bool:
    return any(a < e and s < b for a, b in spans)


def _near(triggers: list[tuple[int, int]], s: int, e: int, text: str) -> bool:
    """A trigger ends shortly before the number, or starts shortly after it, in the same line."""
    for ts, te in triggers:
        if te <= s and s - te <= WINDOW_AFTER and "\n\n" not in text[te:s]:
            return True
        if e <= ts and ts - e <= WINDOW_BEFORE and "\n\n" not in text[e:ts]:
            return True
    return False


def _digits(s: str) -> int:
    return sum(ch.isdigit() for ch in s)


def _distance(triggers: list[tuple[int, int]], s: int, e: int) -> int:
    return min(s - te if te <= s else ts - e if e <= ts else 0 for ts, te in triggers)


_SOCIAL_BEFORE_RE = re.compile(r"(?i)\b(?:social|soc\.?)[\s\-]*$")


def cvv_triggers(text: str) -> list[tuple[int, int]]:
    """CVV triggers, less "security number" inside "social security number": the 9 digits after
    that are an SSN, not a security code followed by 6 loose digits."""
    return [m.span() for m in CVV_TRIGGER_RE.finditer(text)
            if not _SOCIAL_BEFORE_RE.search(text, max(0, m.start() - 12), m.start())]


def detect_cvv_words(text: str) -> list[Span]:
    """Described security codes, the one nearest its trigger first."""
    triggers = cvv_triggers(text)
    if not triggers:
        return []
    keep = _keep(text) + not_a_cvv(text)
    out = []
    for m in _CVV_NUM_RE.finditer(text):
        s, e = m.span()
        if _overlaps(s, e, triggers) or _overlaps(s, e, keep):
            continue
        if _near(triggers, s, e, text):
            out.append(Span(s, e, "CVV"))
    return sorted(out, key=lambda sp: (_distance(triggers, sp.start, sp.end), sp.start))


def detect_ssn_words(text: str) -> list[Span]:
    triggers = [m.span() for m in SSN_TRIGGER_RE.finditer(text)]
    if not triggers:
        return []
    keep = _keep(text)
    out = []
    for m in _SSN_NUM_RE.finditer(text):
        s, e = m.span()
        if _overlaps(s, e, keep) and _digits(m.group()) != 9:
            continue
        if _near(triggers, s, e, text) and not _overlaps(s, e, order_ref_spans(text)):
            out.append(Span(s, e, "SSN"))
    out += [Span(*m.span(1), "SSN") for m in _SSN_LAST4_RE.finditer(text)]
    return out


_STRONG = ("CARD", "IBAN", "CVV", "EXPIRY", "SSN", "DOB")


def merge_spans(text: str, spans: list[Span]) -> list[Span]:
    """The pipeline's spans plus the described CVVs/SSNs, non-overlapping, in text order.

    A described CVV/SSN replaces a weaker guess it overlaps (a phone, an account number) and
    extends to cover it; a phone/account/routing guess inside an order reference is dropped."""
    refs = order_ref_spans(text)
    dates = [m.span() for m in WRITTEN_DATE_RE.finditer(text)]
    # A weak guess inside an order reference goes; so does a "security code" that is the middle of
    # an order number or the year of a written date (the pattern detectors take any 3-4 digits
    # that follow "CVV2", even "CVV2. Order ref 168-6218772-...").
    spans = [s for s in spans if not _overlaps(s.start, s.end, refs + dates)
             or (s.type in _STRONG and s.type not in ("CVV", "EXPIRY"))]
    described = detect_cvv_words(text)
    cards = [s for s in spans if s.type == "CARD"]
    split = split_card_cvv(text, cards, described)
    if split != cards:  # "4111 1111 1111 1111 739 (the 3 digits on the back)": the code leaves the card
        spans = sorted([s for s in spans if s.type != "CARD"] + split, key=lambda s: s.start)
    for new in described + detect_ssn_words(text):
        hits = [s for s in spans if s.start < new.end and new.start < s.end]
        if any(h.type in _STRONG for h in hits):
            continue
        start = min([new.start] + [h.start for h in hits])
        end = max([new.end] + [h.end for h in hits])
        spans = [s for s in spans if s not in hits] + [Span(start, end, new.type)]
    return sorted(spans, key=lambda s: s.start)
