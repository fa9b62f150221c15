"""Merchants named by what they sell: "the gas station", "petrol", "the coffee place", "my flight".

Customers often remember the kind of shop, not the name on the statement. The words they use for a
kind are mapped to ISO 18245 merchant category codes as data (``data/categories.json``), so a bank
reviews and extends the vocabulary without reading the matcher. An MCC is sometimes wider than the
word (5814 is every fast-food counter, not only coffee shops): an entry may then narrow itself to
named directory merchants, to words in the merchant's name, or to a payment channel.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path

from chalicelib.core.models import Transaction
from chalicelib.payments.merchants.directory import find_merchant

__all__ = ["Category", "categories", "find_category", "category_by_name"]

_DATA = Path(__file__).with_name("data") / "categories.json"
_TYPO_RATIO = 0.86  # one slip in a word of seven letters or more ("restaraunt", "grocerys")
_MIN_TYPO_LEN = 6


@dataclass(frozen=True)
class Category:
    name: str
    label: str
    words: tuple[str, ...]
    mcc_ranges: tuple[tuple[int, int], ...]
    merchants: frozenset[str] = frozenset()
    name_words: tuple[str, ...] = ()
    channels: frozenset[str] = frozenset()

    def covers_mcc(self, mcc: str | None) -> bool:
        if not mcc or not mcc.isdigit():
            return False
        code = int(mcc)
        return any(lo <= code <= hi for lo, hi in self.mcc_ranges)

    def covers(self, t: Transaction) -> bool:
        """Whether ``t`` was made at a merchant of this kind."""
        if not self.covers_mcc(t.mcc):
            return False
        if self.channels and t.channel not in self.channels:
            return False
        if not (self.merchants or self.name_words):
            return True
        m = find_merchant(t.descriptor or "")
        if m is not None and m.key in self.merchants:
            return True
        text = f"{t.merchant_name} {t.descriptor}".lower()
        return any(re.search(rf"\b{re.escape(w)}", text) for w in self.name_words)


def _ranges(codes: list[str]) -> tuple[tuple[int, int], ...]:
    out = []
    for code in codes:
        lo, _, hi = code.partition("-")
        if not lo.isdigit() or (hi and not hi.isdigit()):
            raise ValueError(f"categories.json: {code!r} is not an MCC or an MCC range")
        out.append((int(lo), int(hi or lo)))
    return tuple(out)


@lru_cache(maxsize=1)
def categories() -> tuple[Category, ...]:
    raw = json.loads(_DATA.read_text(encoding="utf-8"))
    out = []
    for entry in raw["categories"]:
        words = tuple(" ".join(w.lower().split()) for w in entry["words"])
        if not words or not entry["mccs"]:
            raise ValueError(f"categories.json: {entry.get('name')!r} needs words and mccs")
        out.append(Category(name=entry["name"], label=entry["label"], words=words, mcc_ranges=_ranges(entry["mccs"]),
                            merchants=frozenset(entry.get("merchants", ())),
                            name_words=tuple(w.lower() for w in entry.get("name_words", ())),
                            channels=frozenset(entry.get("channels", ()))))
    return tuple(out)


def category_by_name(name: str | None) -> Category | None:
    return next((c for c in categories() if c.name == name), None) if name else None


def _word_like(typed: str, word: str) -> bool:
    if typed == word:
        return True
    return (len(word) >= _MIN_TYPO_LEN and len(typed) >= _MIN_TYPO_LEN and typed[0] == word[0]
            and SequenceMatcher(None, typed, word).ratio() >= _TYPO_RATIO)


def find_category(text: str) -> tuple[Category, str] | None:
    """The kind of merchant ``text`` names, and the text without those words; None when it names none.

    The longest phrase wins ("gas station" before "gas"); single words forgive one typing slip."""
    tokens = re.findall(r"[a-zé]+", (text or "").lower())
    best: tuple[int, int, int, Category] | None = None  # (-length, start, end, category)
    for cat in categories():
        for phrase in cat.words:
            parts = phrase.split()
            n = len(parts)
            for i in range(len(tokens) - n + 1):
                if all(_word_like(tokens[i + k], parts[k]) for k in range(n)):
                    cand = (-n, i, i + n, cat)
                    if best is None or cand[:2] < best[:2]:
                        best = cand
                    break
    if best is None:
        return None
    _, start, end, cat = best
    rest = " ".join(tokens[:start] + tokens[end:])
    return cat, rest
