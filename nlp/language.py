"""Offline language identification: Unicode scripts first, then stop words for Latin scripts.

Why a heuristic and not a model: the triage pipeline needs only a coarse answer (is this English,
which of a dozen languages the bank serves, or nothing at all) on every message within a fraction
of a millisecond, and no model hub is reachable to fetch a language-id model. Scripts settle
Japanese, Chinese, Korean, Russian and Arabic outright; for Latin-script text the share of each
language's most frequent function words (plus a few diacritics) decides, and the confidence falls
with the evidence, so short or ambiguous text is reported as uncertain and can be sent to
Comprehend's DetectDominantLanguage. Emoji-only or empty text is ``und`` (undetermined).

Run it on redacted text: the typed tokens (``[CARD ****1234]``, ``[EMAIL]``) are dropped first so
they do not count as English words.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["LanguageGuess", "detect_language", "SUPPORTED", "VERSION"]

VERSION = "script+stopwords-1"
SUPPORTED = ("en", "es", "fr", "de", "pt", "it", "nl", "ja", "zh", "ru", "ar", "ko")

_TOKEN_RE = re.compile(r"\[[A-Z_]+(?: \*{4}\d{4})?\]")
# URLs, e-mail addresses and HTML/XML tags carry no language signal (and "com", "de", "en" in a
# URL are stop words of other languages).
_NOISE_RE = re.compile(r"(?i)\b(?:https?://|www\.)\S+|\S+@\S+|<[^>\n]{0,300}>|&[a-z]+;")
_WORD_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)

# The most frequent function words of each language, chosen to overlap as little as possible.
_STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset("the a and is was to of my i you it that for on with have this not be are me "
                    "your at from but they we has had what been will can please did didn't don't "
                    "would there their an or charged card money account".split()),
    "es": frozenset("el la los las de que y en un una es por para con no mi se lo del al su "
                    "pero como más me ya muy fue hay tarjeta dinero cuenta cobro cobraron "
                    "está esta este".split()),
    "fr": frozenset("le la les de des et est un une que qui dans pour pas ne je mon ma mes sur "
                    "avec ce il elle vous nous au aux du été carte argent compte "
                    "j'ai c'est n'ai".split()),
    "de": frozenset("der die das und ist nicht ich ein eine zu den mit von auf für es mein meine "
                    "sie wir dem des im auch wurde habe bitte karte geld konto ".split()),
    "pt": frozenset("o a os as de que e em um uma não meu minha do da dos das para com por foi "
                    "no na mais mas cartão dinheiro conta fui cobrado é".split()),
    "it": frozenset("il lo la gli le di che e è un una non mio mia per con del della sono ho "
                    "nel alla questo ma anche carta soldi conto addebitato".split()),
    "nl": frozenset("de het een en is niet ik van dat die te mijn op voor met zijn er maar "
                    "ook heb werd geld kaart rekening wel naar".split()),
}

# Letters that, within Latin script, point at one language (weight: one extra hit each).
_DIACRITICS: dict[str, str] = {
    "ñ": "es", "¿": "es", "¡": "es",
    "ç": "fr", "è": "fr", "ê": "fr", "à": "fr", "œ": "fr", "ë": "nl",
    "ß": "de", "ä": "de", "ö": "de", "ü": "de",
    "ã": "pt", "õ": "pt",
    "ì": "it", "ò": "it",
}


@dataclass(frozen=True)
class LanguageGuess:
    language: str  # ISO 639-1, or "und"
    confidence: float  # 0..1


def _script_counts(text: str) -> dict[str, int]:
    counts = {"latin": 0, "kana": 0, "han": 0, "hangul": 0, "cyrillic": 0, "arabic": 0, "other": 0}
    for ch in text:
        if not ch.isalpha():
            continue
        cp = ord(ch)
        if cp < 0x250 or 0x1E00 <= cp <= 0x1EFF:
            counts["latin"] += 1
        elif 0x3040 <= cp <= 0x30FF or 0x31F0 <= cp <= 0x31FF or 0xFF66 <= cp <= 0xFF9F:
            counts["kana"] += 1
        elif 0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0xF900 <= cp <= 0xFAFF:
            counts["han"] += 1
        elif 0xAC00 <= cp <= 0xD7AF or 0x1100 <= cp <= 0x11FF or 0x3130 <= cp <= 0x318F:
            counts["hangul"] += 1
        elif 0x0400 <= cp <= 0x04FF:
            counts["cyrillic"] += 1
        elif 0x0600 <= cp <= 0x06FF or 0x0750 <= cp <= 0x077F or 0xFB50 <= cp <= 0xFEFF:
            counts["arabic"] += 1
        else:
            counts["other"] += 1
    return counts


def _latin(text: str) -> LanguageGuess:
    words = [w.lower().replace("’", "'") for w in _WORD_RE.findall(text)]
    if not words:
        return LanguageGuess("und", 0.0)
    hits = {lang: 0.0 for lang in _STOPWORDS}
    for w in words:
        for lang, stop in _STOPWORDS.items():
            if w in stop:
                hits[lang] += 1.0
    lowered = text.lower()
    for ch, lang in _DIACRITICS.items():
        if ch in lowered:
            hits[lang] += 1.0
    ranked = sorted(hits.items(), key=lambda kv: (-kv[1], kv[0] != "en"))
    best, best_hits = ranked[0]
    second_hits = ranked[1][1]
    if best_hits == 0:
        # Latin letters with no function word at all: "Netflix refund??" is most likely English in
        # an English-speaking support desk, but say so with low confidence.
        return LanguageGuess("en", 0.3)
    margin = (best_hits - second_hits) / best_hits  # 1 when no other language scored
    evidence = min(1.0, best_hits / 4.0)  # four function words are plenty
    coverage = min(1.0, best_hits / max(1, len(words)) * 3)
    confidence = 0.25 + 0.75 * margin * (0.5 * evidence + 0.5 * coverage)
    return LanguageGuess(best, round(min(confidence, 0.99), 4))


def detect_language(text: str) -> LanguageGuess:
    """Best guess and confidence; ``und`` when the text has no letters (empty, emoji, digits)."""
    if not text:
        return LanguageGuess("und", 0.0)
    text = unicodedata.normalize("NFC", _NOISE_RE.sub(" ", _TOKEN_RE.sub(" ", text)))
    counts = _script_counts(text)
    total = sum(counts.values())
    if total == 0:
        return LanguageGuess("und", 0.0)
    cjk = counts["kana"] + counts["han"]
    # Japanese mixes kana and kanji: any real share of kana makes it Japanese, not Chinese.
    if counts["kana"] and counts["kana"] >= 0.1 * cjk and cjk >= 0.3 * total:
        return LanguageGuess("ja", round(min(0.99, 0.6 + 0.4 * cjk / total), 4))
    for script, lang in (("han", "zh"), ("hangul", "ko"), ("cyrillic", "ru"), ("arabic", "ar")):
        share = counts[script] / total
        if share >= 0.3:
            return LanguageGuess(lang, round(min(0.99, 0.5 + 0.5 * share), 4))
    if counts["latin"] / total >= 0.5:
        return _latin(text)
    return LanguageGuess("und", 0.1)
