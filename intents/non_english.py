"""Messages not in English: answer in the customer's language that this assistant works in English,
and hand over to a person, said in that language.

Why not a silent handoff or "didn't understand": the customer would not know what happened. The
statistical detector (nlp.language) is unsure on two or three words, so each language also has
marker words that settle short messages ("hola, necesito ayuda"). English is kept when in doubt.
"""
from __future__ import annotations

import re

from intents.dialog import Decision, Turn
from intents.talk_text import load_catalogue

DETECTOR_CONFIDENCE = 0.6
MIN_MARKERS = 2  # one marker word could be a name or a borrowing ("cargo", "como")


def _markers(lang: str) -> list[str]:
    return [str(m).lower() for m in load_catalogue("languages.yaml")[lang].get("markers") or []]


def language_of(text: str) -> str | None:
    """A language we have an answer for, or None for English and anything unsure."""
    low = " ".join((text or "").lower().split())
    if not re.search(r"[^\W\d_]", low):
        return None
    langs = load_catalogue("languages.yaml")
    best, hits = None, 0
    for lang in langs:
        n = sum(1 for m in _markers(lang) if re.search(rf"(?<!\w){re.escape(m)}(?!\w)", low))
        if n > hits:
            best, hits = lang, n
    words = len(re.findall(r"\w+", low))
    if best and (hits >= MIN_MARKERS or (hits == 1 and words <= 2 and low.strip(" !?.¡¿") in _markers(best))):
        return best
    from nlp.language import detect_language

    guess = detect_language(text)
    if guess.language in langs and guess.confidence >= DETECTOR_CONFIDENCE:
        return guess.language
    return None


def answer_if_foreign(turn: Turn, text: str, context: dict | None = None) -> Decision | None:
    lang = language_of(text)
    if lang is None:
        return None
    from intents.handoff import escalate

    entry = load_catalogue("languages.yaml")[lang]
    # The decision policy sends languages we do not serve to a person: told in their language.
    message = f"{entry['reply']} (Sorry, I can only help in English, so I'm passing you to a member of our team.)"
    return escalate(turn, "unsupported_language", message, {**(context or {}), "language": lang})
