"""Urgency 0–1 with the reasons that produced it, from fixed, reviewable rules.

Why rules and fixed weights: urgency decides who waits. An agent, an auditor or the customer must
be able to see *why* a message jumped the queue, and the same text must always get the same
score (the decision log replays it). Each reason fires on explicit phrases and carries one weight;
reasons combine as a noisy-OR, ``1 - Π(1 - w)``, so every extra reason raises the score, the order
does not matter and the score never exceeds 1.

Weights (URGENCY_WEIGHTS):
- ``vulnerable_customer`` 0.55: bereavement, illness, disability, hardship. Self-harm language
  ("suicidal", "kill myself", "end my life") is the highest priority: the score is forced to 1.0.
- ``legal_threat`` 0.50: lawyer, attorney, sue, legal action, small claims.
- ``regulator_mention`` 0.45: CFPB, ombudsman, regulator, attorney general, FCA, BBB.
- ``large_amount`` 0.35: any amount ≥ USD 1,000 equivalent (LARGE_AMOUNT_USD, fixed reference
  rates in USD_PER_UNIT; an unknown currency counts one unit as one dollar).
- ``time_pressure`` 0.30: urgent, today, asap, rent due, stranded, abroad.
- ``repeat_contact`` 0.25: the caller says so (``repeat_contact=True``) or the text does ("third
  time", "still waiting", "again").

Run it on redacted text: none of these phrases is PII, and amounts are never redacted.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Protocol

__all__ = ["Urgency", "score_urgency", "mentions_self_harm", "amount_in_usd", "combine", "URGENCY_WEIGHTS", "REASONS",
           "PROTECTED", "VERSION", "LARGE_AMOUNT_USD"]

VERSION = "rules-1"
LARGE_AMOUNT_USD = 1000.0

URGENCY_WEIGHTS: dict[str, float] = {
    "legal_threat": 0.50,
    "regulator_mention": 0.45,
    "vulnerable_customer": 0.55,
    "large_amount": 0.35,
    "repeat_contact": 0.25,
    "time_pressure": 0.30,
}
REASONS = tuple(URGENCY_WEIGHTS)
# Signals that send a message to a person whatever else triage concludes (scope, category, a
# non-complaint verdict): the customer's safety and the bank's legal and regulatory exposure.
PROTECTED = ("vulnerable_customer", "legal_threat", "regulator_mention")

# Reference rates (USD per major unit) for the large-amount test only; a threshold test needs the
# right order of magnitude, not today's rate.
USD_PER_UNIT: dict[str, float] = {
    "USD": 1.0, "EUR": 1.08, "GBP": 1.27, "JPY": 0.0067, "CAD": 0.73, "AUD": 0.66, "CHF": 1.13,
    "CNY": 0.14, "INR": 0.012, "MXN": 0.055, "SEK": 0.095, "NOK": 0.093, "DKK": 0.145,
    "PLN": 0.25, "NZD": 0.60, "SGD": 0.74, "HKD": 0.128,
}
ZERO_DECIMAL = {"JPY", "KRW"}


def _rx(*phrases: str) -> re.Pattern[str]:
    return re.compile(r"(?i)(?<![\w])(?:" + "|".join(phrases) + r")(?![\w])")


_PATTERNS: dict[str, re.Pattern[str]] = {
    "legal_threat": _rx(r"lawyers?", r"attorneys?(?!\s+general)", r"solicitors?", r"su(?:e|ed|ing)",
                        r"legal\s+action", r"small\s+claims(?:\s+court)?", r"take\s+(?:you|this|it)\s+to\s+court",
                        r"court\s+action", r"litigation"),
    "regulator_mention": _rx(r"CFPB", r"consumer\s+financial\s+protection\s+bureau", r"ombudsman",
                             r"regulators?", r"attorneys?\s+general", r"FCA", r"financial\s+conduct\s+authority",
                             r"BBB", r"better\s+business\s+bureau", r"FTC", r"OCC"),
    "vulnerable_customer": _rx(r"bereave(?:ment|d)", r"passed\s+away", r"(?:mother|father|husband|wife|partner|son|daughter|parent|mum|mom|dad)\s+(?:has\s+|just\s+)?died",
                               r"funeral",
                               r"disabilit(?:y|ies)", r"disabled", r"can(?:'|’)?t\s+afford\s+(?:to\s+)?(?:buy\s+)?(?:food|rent|groceries|medicine|to\s+eat)",
                               r"cannot\s+afford\s+(?:to\s+)?(?:buy\s+)?(?:food|rent|groceries|medicine|to\s+eat)",
                               r"hospital(?:i[sz]ed)?", r"elderly\s+(?:mother|father|parent|mum|mom|dad)",
                               r"financial\s+hardship", r"hardship", r"dementia", r"terminal(?:ly)?\s+ill",
                               r"cancer", r"carer", r"domestic\s+abuse", r"no\s+money\s+for\s+food",
                               # age, sight and hearing, a death, a family on one income (FCA FG21/1 drivers)
                               r"(?:I(?:['’]m|\s+am)|aged?)\s+(?:7[5-9]|[89]\d|1[01]\d)"
                               r"(?:\s*(?:years?|yrs?)(?:[-\s]old|\s+of\s+age)?|(?=\s*(?:[,.;!]|and\b|$)))",
                               r"in\s+my\s+(?:late\s+)?(?:seventies|eighties|nineties)", r"pensioner",
                               r"(?:my\s+)?eyesight\s+is\s+(?:not\s+(?:what\s+it\s+was|good)|poor|failing|bad|going)",
                               r"(?:poor|failing|bad|declining)\s+(?:eyesight|vision|hearing)", r"partially\s+sighted",
                               r"visually\s+impaired", r"registered\s+blind", r"hard\s+of\s+hearing",
                               r"my\s+late\s+(?:husband|wife|partner|mother|father|son|daughter|mum|mom|dad|parents?)(?:['’]s)?",
                               r"widow(?:ed|er)?",
                               r"single\s+(?:mum|mom|mother|parent|dad|father)", r"(?:lost|losing)\s+my\s+job", r"made\s+redundant"),
    "repeat_contact": _rx(r"third\s+time", r"second\s+time", r"fourth\s+time", r"(?:\d+|several|many|multiple)\s+times",
                          r"still\s+waiting", r"still\s+(?:not|haven(?:'|’)?t)\s+(?:heard|received|resolved)",
                          r"again", r"already\s+(?:called|contacted|emailed|complained|reported)",
                          r"no\s+(?:one|body)\s+(?:has\s+)?(?:got|gotten|come)\s+back"),
    "time_pressure": _rx(r"urgent(?:ly)?", r"today", r"tonight", r"asap", r"a\.s\.a\.p\.?",
                         r"immediately", r"right\s+now", r"rent\s+(?:is\s+)?due", r"stranded", r"abroad",
                         r"emergency", r"overseas", r"stuck\s+(?:in|at)", r"tonite",
                         # money the author needs for the essentials, and a card to stop while it is misused
                         r"(?:money|cash|funds)\s+(?:back\s+)?for\s+(?:my\s+|the\s+)?(?:rent|bills?|food|groceries|medicine|medication)",
                         r"(?:need|want)\s+(?:it|my\s+card|the\s+card|this\s+card)\s+(?:to\s+be\s+)?(?:blocked|frozen|stopped|cancell?ed)",
                         r"(?:please|pls|plz)\s+(?:block|freeze|stop|cancel)\s+(?:my|the|this|it)"),
}
_SELF_HARM = _rx(r"suicidal", r"suicide", r"kill\s+myself", r"end\s+my\s+life", r"self[-\s]harm",
                 r"don(?:'|’)?t\s+want\s+to\s+(?:live|be\s+alive)")


class _AmountLike(Protocol):
    minor: int
    currency: str


@dataclass(frozen=True)
class Urgency:
    score: float
    reasons: list[str] = field(default_factory=list)
    evidence: dict[str, list[str]] = field(default_factory=dict)  # reason -> matched phrases
    self_harm: bool = False


def amount_in_usd(minor: int, currency: str) -> float:
    code = currency.upper().rstrip("¢")
    scale = 1 if code in ZERO_DECIMAL else 100
    if currency.endswith("¢"):
        scale = 100
    return (minor / scale) * USD_PER_UNIT.get(code, 1.0)


# A mail's legal boilerplate ("If you have received this e-mail in error, please notify us
# immediately") speaks for no customer: its sentence is not read for urgency.
_BOILERPLATE = re.compile(
    r"(?i)\breceived\s+this\s+(?:e-?mail|message|communication|transmission)\s+(?:\w+\s+){0,3}in\s+error"
    r"|\bnot\s+the\s+intended\s+recipient|\bconfidentiality\s+notice\b"
    # "Any unauthorised use may result in legal action", never "unauthorised use of my card"
    r"|\b(?:any|the)\s+unauthori[sz]ed\s+(?:use|disclosure|review|copying|distribution|dissemination)\s+"
    r"(?:of\s+(?:this|the\s+(?:information|contents?))\b|may\b|is\s+(?:strictly\s+)?prohibited)"
    r"|\b(?:disclosure|copying|distribution|dissemination)\b[^.!?]{0,80}\bprohibited\b")


def without_boilerplate(text: str) -> str:
    """``text`` with each sentence that carries legal boilerplate blanked out."""
    low = text.lower()
    if not any(w in low for w in ("error", "intended", "confidential", "unauthori", "prohibited")):
        return text
    out, pos = [], 0
    for m in _BOILERPLATE.finditer(text):
        if m.start() < pos:
            continue
        start = max(max(text.rfind(c, pos, m.start()) for c in ".!?") + 1, text.rfind("\n\n", pos, m.start()) + 2, pos)
        ends = [e for e in (text.find(c, m.end()) for c in ".!?") if e >= 0]
        end = min(ends) + 1 if ends else len(text)
        out.append(text[pos:start])
        pos = end
    return "".join(out) + text[pos:] if out else text


def mentions_self_harm(text: str) -> bool:
    """Whether the text speaks of self-harm anywhere (then urgency is 1.0 whatever else it says)."""
    return _SELF_HARM.search(text or "") is not None


def score_urgency(text: str, amounts: Iterable[_AmountLike] = (), *, repeat_contact: bool = False) -> Urgency:
    """Deterministic urgency of (redacted) text; ``amounts`` are the extracted entity amounts."""
    text = without_boilerplate(text or "")
    evidence: dict[str, list[str]] = {}
    for reason, rx in _PATTERNS.items():
        found = [m.group(0) for m in rx.finditer(text)]
        if found:
            evidence[reason] = list(dict.fromkeys(f.lower() for f in found))
    self_harm = [m.group(0).lower() for m in _SELF_HARM.finditer(text)]
    if self_harm:
        evidence.setdefault("vulnerable_customer", [])
        evidence["vulnerable_customer"] = list(dict.fromkeys(evidence["vulnerable_customer"] + self_harm))
    large = [a for a in amounts if amount_in_usd(a.minor, a.currency) >= LARGE_AMOUNT_USD]
    if large:
        evidence["large_amount"] = [f"{a.minor} {a.currency}" for a in large]
    if repeat_contact:
        evidence.setdefault("repeat_contact", []).append("flag:repeat_contact")
    reasons = [r for r in REASONS if r in evidence]
    return Urgency(combine(reasons, self_harm=bool(self_harm)), reasons, evidence, bool(self_harm))


def combine(reasons: Iterable[str], *, self_harm: bool = False) -> float:
    """The noisy-OR score of a set of reasons (1.0 with self-harm language), rounded as stored."""
    if self_harm:
        return 1.0
    keep = 1.0
    for r in dict.fromkeys(reasons):
        keep *= 1.0 - URGENCY_WEIGHTS[r]
    return round(1.0 - keep, 4)
