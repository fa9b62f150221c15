"""Merchant mentions in a complaint: the merchant ruler's hits plus capitalised names after "at",
"from", "by" …, each rescored against the merchant directory.

Its own module because the directory lookup is the one part of entity extraction that reads the
payments catalogue (``chalicelib.payments.merchants``, imported directly: nlp sits above chalicelib).
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Callable

from pydantic import BaseModel

from chalicelib.payments.merchants import MERCHANTS, merchant_match_score
from nlp import patterns as P

__all__ = ["MerchantMention", "find_merchants"]


class MerchantMention(BaseModel):
    name: str
    start: int
    end: int
    source: str  # "catalogue" (chalicelib.payments.merchants), "list" (built-in), "heuristic"
    score: float
    merchant_key: str | None = None  # chalicelib.payments.merchants key when the ruler matched the directory



_HEURISTIC_MERCHANT_RE = re.compile(
    r"\b(?:at|from|by|with|to)\s+((?:[A-Z][\w'&.+\-]*|[A-Z0-9]{2,})(?:\s+(?:[A-Z][\w'&.+\-]*|&|[A-Z0-9]{2,})){0,3})")
_NOT_MERCHANT = {w.capitalize() for w in list(P.MONTHS) + list(P.WEEKDAYS)} | {
    "I", "My", "The", "This", "That", "It", "You", "We", "Me", "Your", "Card", "Bank", "Customer",
    "Support", "Visa", "Mastercard", "Amex", "USD", "EUR", "GBP", "DSP", "HND", "Today",
    "Yesterday", "Hello", "Hi", "Dear", "Thanks", "Regards", "Please", "Mr", "Mrs", "Ms", "Dr",
    "CARD", "NAME", "EMAIL", "PHONE", "ADDRESS", "ACCOUNT", "IBAN", "SSN", "CVV", "DOB"}


@lru_cache(maxsize=1)
def _catalogue() -> tuple[Callable[..., float], dict[str, tuple[Any, ...]]]:
    """(merchant_match_score, index) over the merchant directory.

    Scoring a mention against the whole directory costs ~50 ms; the index keyed by the first three
    letters of each name/alias word keeps it to a handful of candidates.
    """
    score_fn, merchants = merchant_match_score, tuple(MERCHANTS)
    index: dict[str, list[Any]] = {}
    for m in merchants:
        for phrase in (m.name, *m.aliases):
            for word in re.findall(r"[a-z0-9]+", phrase.lower()):
                if len(word) >= 3 and m not in index.setdefault(word[:3], []):
                    index[word[:3]].append(m)
    return score_fn, {k: tuple(v) for k, v in index.items()}


def _catalogue_candidates(name: str, index: dict[str, tuple[Any, ...]]) -> list[Any]:
    seen: dict[str, Any] = {}
    for word in re.findall(r"[a-z0-9]+", name.lower()):
        for m in index.get(word[:3], ()) if len(word) >= 3 else ():
            seen.setdefault(m.key, m)
    return list(seen.values())


def find_merchants(text: str, ruler_ents: list[tuple[str, int, int, str]]) -> list[MerchantMention]:
    out = [MerchantMention(name=t, start=s, end=e, source="catalogue" if key else "list", score=1.0,
                           merchant_key=key or None) for t, s, e, key in ruler_ents]
    for m in _HEURISTIC_MERCHANT_RE.finditer(text):
        name = m.group(1).rstrip(".")
        s = m.start(1)
        words = name.split()
        while words and words[0] in _NOT_MERCHANT:
            s += len(words[0]) + 1
            words = words[1:]
        while words and words[-1] in _NOT_MERCHANT:
            words = words[:-1]
        if not words or text[s - 1:s] == "[" or name.startswith("DSP-"):
            continue
        name = " ".join(words)
        e = s + len(name)
        if any(o.start < e and s < o.end for o in out):
            continue
        out.append(MerchantMention(name=name, start=s, end=e, source="heuristic", score=0.5))
    score_fn, index = _catalogue()
    rescored = []
    for mm in out:
        if mm.source == "heuristic":
            scored = [(score_fn(mm.name, m.name, m.name), m.key) for m in _catalogue_candidates(mm.name, index)]
            best, key = max(scored, default=(0.0, None))
            if best >= 0.6:  # the directory's own match threshold
                mm = mm.model_copy(update={"source": "catalogue", "score": round(best, 3), "merchant_key": key})
        rescored.append(mm)
    out = rescored
    out.sort(key=lambda m: m.start)
    return out
