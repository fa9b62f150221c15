"""Matching what a customer says ("the amazon one", "starbuks") to what the statement says
("AMZN MKTP US*2K4"): abbreviations expanded, processor prefixes and order references ignored,
the directory's aliases counted, small typos forgiven.
"""
from __future__ import annotations

import re
from difflib import SequenceMatcher

from chalicelib.payments.merchants.directory import find_merchant
from chalicelib.payments.not_merchants import is_ordinary_word

# Abbreviations acquirers use in descriptors.
_ABBREVIATIONS: dict[str, str] = {
    "amzn": "amazon",
    "mktp": "marketplace",
    "wm": "walmart",
    "wholefds": "whole foods",
    "whse": "warehouse",
    "southwes": "southwest",
    "sbux": "starbucks",
    "wrls": "wireless",
    "comm": "communications",
    "mcdonald": "mcdonalds",
}
_PROCESSOR_TOKENS = {"sq", "tst", "pp", "paypal", "sp", "dd", "in", "sqsp", "eb", "fs", "wpy", "cko", "wu"}
# Words that carry no merchant identity in a query or a descriptor.
_STOP = {
    "the", "a", "an", "at", "from", "to", "my", "me", "i", "on", "in", "of", "for", "with", "that", "this",
    "charge", "charges", "payment", "payments", "purchase", "transaction", "order", "bill", "billing",
    "card", "com", "www", "inc", "llc", "us", "usa", "one", "thing", "it", "was", "store", "subscr", "subs",
}
# Category-ish words: a mismatch on these should cost little ("shell gas", "blue bottle cafe").
_SOFT = {
    "gas", "station", "fuel", "coffee", "cafe", "shop", "restaurant", "food", "delivery", "ride", "online",
    "app", "subscription", "supermarket", "grocery", "groceries", "market", "pharmacy", "airline",
    "airlines", "flight", "hotel", "membership",
}


def _is_reference(tok: str) -> bool:
    """Store numbers and order references ("2k4", "1a2b3c", "00123") say nothing about the
    merchant; a name that merely contains digits ("xinghua88") does."""
    digits = sum(ch.isdigit() for ch in tok)
    return digits > 0 and (len(tok) <= 6 or digits * 2 >= len(tok))


def _tokens(text: str, *, expand: bool = True, drop_processors: bool = False) -> list[str]:
    text = text.lower().replace("&", " and ").replace("'", "").replace("’", "")
    raw = re.findall(r"[a-z0-9]+", text)
    if drop_processors and "*" in text:
        head = text.split("*", 1)[0].strip()
        if head in _PROCESSOR_TOKENS:
            raw = raw[len(re.findall(r"[a-z0-9]+", head)):]
    out: list[str] = []
    for tok in raw:
        if tok in _STOP or is_ordinary_word(tok) or _is_reference(tok):
            continue
        if expand and tok in _ABBREVIATIONS:
            out.extend(_ABBREVIATIONS[tok].split())
        else:
            out.append(tok)
    return out


def _tok_sim(q: str, c: str) -> float:
    if q == c:
        return 1.0
    if len(q) >= 3 and c.startswith(q):
        return 0.85 + 0.15 * len(q) / len(c)
    r = SequenceMatcher(None, q, c).ratio()
    # A weak resemblance between words is coincidence, not a typo.
    return r if r >= 0.8 else r * 0.6


def _score(q: list[str], c: list[str]) -> float:
    if not q or not c:
        return 0.0
    joined_q, joined_c = "".join(q), "".join(c)
    whole = SequenceMatcher(None, joined_q, joined_c).ratio()
    whole = whole if whole >= 0.85 else 0.0  # "bestbuy" == "best buy", "ubereats" == "uber eats"
    weights = [0.25 if t in _SOFT else 1.0 for t in q]
    bests = [max(_tok_sim(t, ct) for ct in c) for t in q]
    coverage = sum(w * b for w, b in zip(weights, bests)) / sum(weights)
    used = sum(1 for ct in c if max(_tok_sim(t, ct) for t in q) >= 0.8)
    precision = used / len(c)
    return max(whole, coverage * (0.85 + 0.15 * precision))


def merchant_match_score(query: str, txn_descriptor: str, txn_merchant_name: str) -> float:
    """How well what the customer said names this transaction's merchant, in [0, 1].

    Descriptor-aware: abbreviations are expanded ("AMZN MKTP" -> amazon marketplace), processor
    prefixes and order references are ignored, the directory's aliases count ("walmart" for
    "WM SUPERCENTER #1234"), and small typos are forgiven ("starbuks"). 0.6 and above is a match.
    """
    q = _tokens(query or "")
    if not q:
        return 0.0
    candidates: list[tuple[list[str], float]] = [
        (_tokens(txn_merchant_name or ""), 1.0),
        (_tokens(txn_descriptor or "", drop_processors=True), 1.0),
        # The processor itself is a weaker clue ("the paypal one").
        (_tokens(txn_descriptor or ""), 0.9),
    ]
    merchant = find_merchant(txn_descriptor or "")
    if merchant is not None:
        candidates.append((_tokens(merchant.name), 1.0))
        candidates.extend((_tokens(a), 1.0) for a in merchant.aliases)
    best = max(_score(q, c) * w for c, w in candidates)
    return round(min(1.0, max(0.0, best)), 4)
