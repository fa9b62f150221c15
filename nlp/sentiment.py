"""Local-tier sentiment: VADER with a few card-dispute words, mapped to Comprehend's four labels.

Why VADER: it ships its lexicon inside the wheel (no download), scores a message in well under a
millisecond, and Comprehend's DetectSentiment, the paid tier, reads only the first 500 characters
anyway. Its output is mapped to Comprehend's shape (label POSITIVE/NEGATIVE/NEUTRAL/MIXED and
scores keyed Positive/Negative/Neutral/Mixed summing to 1) so the two tiers are interchangeable
downstream.

Mapping: VADER gives pos/neg/neu proportions and a compound score. The overlap of positive and
negative evidence, ``2 * min(pos, neg)``, becomes Mixed and is taken out of both sides, so scores
still sum to 1. The label is MIXED when that overlap is at least ``MIXED_MIN`` and no smaller than
either side; otherwise the usual VADER cut-offs on the compound score (±0.05) decide.

VADER is English-only: for other languages the result is close to NEUTRAL and the pipeline treats
non-English text as a reason to ask Comprehend.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SentimentResult", "analyse_sentiment", "VERSION", "LABELS"]

VERSION = "vader-3.3.2+dispute-lexicon-1"
LABELS = ("POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED")
COMPOUND_CUTOFF = 0.05
MIXED_MIN = 0.2
# VADER's negation and idiom checks rescan the word list for every word (quadratic): a 16,000-
# character email took 450 ms. The mood of a complaint is set in its opening, and Comprehend
# scores only the first 500 characters anyway, so the local tier reads the first MAX_CHARS.
MAX_CHARS = 1000

# Words VADER does not know but that carry the customer's mood in a card-dispute message
# (VADER valence scale is -4..+4). Kept small and reviewed: each is unambiguous in this domain.
DISPUTE_LEXICON: dict[str, float] = {
    "fraud": -2.5, "fraudulent": -2.5, "scam": -2.5, "scammed": -2.8, "unauthorised": -1.8,
    "unauthorized": -1.8, "overcharged": -2.0, "ripped": -2.0, "rip-off": -2.5, "stolen": -2.2,
    "declined": -1.2, "refused": -1.3, "stranded": -2.0, "unacceptable": -2.5, "ridiculous": -2.0,
    "disgraceful": -2.8, "useless": -2.2, "incompetent": -2.5, "furious": -3.0, "outraged": -3.0,
    "resolved": 1.5, "sorted": 1.2,
}

_lock = threading.Lock()
_analyser: Any = None


def _get_analyser() -> Any:
    """One analyser per process, built on first use (the lexicon load costs ~50 ms)."""
    global _analyser
    if _analyser is None:
        with _lock:
            if _analyser is None:
                from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

                analyser = SentimentIntensityAnalyzer()
                analyser.lexicon.update(DISPUTE_LEXICON)
                _analyser = analyser
    return _analyser


@dataclass(frozen=True)
class SentimentResult:
    label: str
    scores: dict[str, float] = field(default_factory=dict)
    compound: float = 0.0


def from_vader(pos: float, neg: float, neu: float, compound: float) -> SentimentResult:
    """The mapping on its own, so it can be checked without running VADER."""
    overlap = min(pos, neg)
    mixed = 2 * overlap
    positive, negative = pos - overlap, neg - overlap
    total = positive + negative + neu + mixed or 1.0
    scores = {"Positive": positive / total, "Negative": negative / total, "Neutral": neu / total,
              "Mixed": mixed / total}
    if scores["Mixed"] >= MIXED_MIN and scores["Mixed"] >= max(scores["Positive"], scores["Negative"]):
        label = "MIXED"
    elif compound >= COMPOUND_CUTOFF:
        label = "POSITIVE"
    elif compound <= -COMPOUND_CUTOFF:
        label = "NEGATIVE"
    else:
        label = "NEUTRAL"
    return SentimentResult(label, {k: round(v, 4) for k, v in scores.items()}, round(compound, 4))


def analyse_sentiment(text: str) -> SentimentResult:
    """Sentiment of the opening MAX_CHARS of (redacted) text; empty text is NEUTRAL."""
    if not text or not text.strip():
        return SentimentResult("NEUTRAL", {"Positive": 0.0, "Negative": 0.0, "Neutral": 1.0, "Mixed": 0.0}, 0.0)
    s = _get_analyser().polarity_scores(text[:MAX_CHARS])
    return from_vader(s["pos"], s["neg"], s["neu"], s["compound"])
