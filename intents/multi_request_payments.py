"""Two payments in one request: "dispute Netflix and also Amazon" is two disputes, not one.

Why: requests in a message were told apart by intent only, so a second payment named for the same
intent was merged into the first and dropped without a word. A payment request (a dispute, a hold,
a lookup) that names two different merchants becomes one request per merchant:
- named side by side ("the netflix and amazon charges", "Netflix and also Amazon"), each request
  keeps the sentence around the pair with its own merchant in it ("dispute Amazon");
- named in clauses of their own ("the amazon charge, and the paypal one"), each keeps its clause.
Merchants are found by the directory's aliases (chalicelib/payments/merchants), never by the
customer's own payments: the split happens before anyone is verified. The queue's limits do not
change (intents/multi_request.py: at most two waiting, redacted, re-checked on read).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

PAYMENT_INTENTS = ("FileDispute", "ExplainHold", "LookupTransaction")
MAX_PAYMENTS = 5  # cut apart at most; the queue takes two waiting and names the rest (intents/multi_request.py)
# What may stand between two merchants named side by side ("netflix one and the amazon").
_COORDINATION = re.compile(r"^(?:\s|,|&|\+|\band\b|\balso\b|\bplus\b|\bas well as\b|\bn\b|\bthe\b|\ba\b|\ban\b|\bmy\b|"
                           r"\bthat\b|\bthis\b|\bone\b|\bones\b|\bcharges?\b|\bpayments?\b|\btransactions?\b|\bfrom\b|"
                           r"\bat\b|\bto\b|\bwith\b)*$", re.I)
_SEAM = re.compile(r"[.?!;]+\s+|,?\s+\b(?:and\s+also|and\s+then|also|plus|as\s+well\s+as|and|n)\s+|,\s+", re.I)


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    key: str  # the merchant as the directory knows it: one key per payment named
    label: str  # how to say it back ("Netflix")


@lru_cache(maxsize=1)
def _aliases() -> tuple[re.Pattern, dict[str, tuple[str, str]]]:
    from chalicelib.payments.merchants import MERCHANTS
    from chalicelib.payments.not_merchants import is_ordinary_word

    by_alias: dict[str, tuple[str, str]] = {}
    for m in MERCHANTS:
        for alias in m.aliases:
            a = alias.lower()
            if a not in by_alias and not (" " not in a and is_ordinary_word(a)):
                by_alias[a] = (m.key, m.name)
    words = sorted(by_alias, key=len, reverse=True)
    rx = re.compile(r"\b(?:" + "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in words) + r")\b", re.I)
    return rx, by_alias


def payment_mentions(text: str | None, labels: dict[str, str] | None = None) -> list[Mention]:
    """The merchants named in ``text``, in order, each once (``labels``: nicer spoken names by alias)."""
    rx, by_alias = _aliases()
    out: list[Mention] = []
    for m in rx.finditer(text or ""):
        alias = " ".join(m.group(0).lower().split())
        key, name = by_alias[alias]
        if all(x.key != key for x in out):
            out.append(Mention(m.start(), m.end(), key, (labels or {}).get(alias, name)))
    return out


def payment_key(text: str | None) -> str | None:
    """Which payment a request is about, for telling two requests of one intent apart."""
    found = payment_mentions(text)
    return found[0].key if found else None


def split_by_payment(intent: str | None, text: str) -> list[str]:
    """One text per payment named in a payment request; the text itself when it names one or none."""
    if intent not in PAYMENT_INTENTS:
        return [text]
    found = payment_mentions(text)[:MAX_PAYMENTS]
    if len(found) < 2:
        return [text]
    first, last = found[0], found[-1]
    gaps = [text[a.end:b.start] for a, b in zip(found, found[1:])]
    if all(_COORDINATION.match(g) for g in gaps):  # "the netflix and amazon charges": one sentence each
        head, tail = text[:first.start], text[last.end:]
        return [f"{head}{text[m.start:m.end]}{tail}".strip() for m in found]
    pieces, cut = [], 0
    for a, b, gap in zip(found, found[1:], gaps):
        seams = list(_SEAM.finditer(gap))
        if not seams:
            return [text]  # two merchants in one clause without a seam: not ours to cut
        seam = seams[0]
        pieces.append(text[cut:a.end + seam.start()])
        cut = a.end + seam.end()
    pieces.append(text[cut:])
    return [p.strip(" ,.;") for p in pieces if p.strip(" ,.;")]
