"""Local intent recognition: what Lex's NLU does, done offline.

Two signals: similarity to the intents' own sample utterances (character n-gram TF-IDF, cheap
and robust to typos), and the nlp/ intent classifier when its artifacts are present (trained on
BANKING77, mapped to Lex intents by nlp.taxonomy). The emulator uses it to pick the intent of a
new utterance; the FallbackIntent handler uses it to redirect what Lex missed.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from intents.spec import IntentSpec

SIMILARITY_THRESHOLD = 0.38
MARGIN = 0.04
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Guess:
    intent: str
    score: float
    source: str  # "utterances" | "classifier"
    confident: bool
    runner_up: str | None = None  # the second likeliest intent (utterances only): too close a call is asked
    runner_up_score: float = 0.0


def _norm(text: str) -> str:
    text = text.lower().replace("’", "'")
    text = _PLACEHOLDER.sub(" ", text)
    return " " + " ".join(re.findall(r"[a-z0-9']+", text)) + " "


def _grams(text: str) -> Counter:
    t = _norm(text)
    grams: Counter = Counter()
    for n in (3, 4, 5):
        for i in range(len(t) - n + 1):
            grams[t[i : i + n]] += 1
    for w in t.split():
        grams["w:" + w] += 2
    return grams


class UtteranceIndex:
    def __init__(self, specs: list[IntentSpec]):
        docs = [(s.name, u) for s in specs for u in s.sample_utterances]
        df: Counter = Counter()
        grams = [_grams(u) for _, u in docs]
        for g in grams:
            df.update(g.keys())
        n = len(docs)
        self.idf = {k: math.log((1 + n) / (1 + v)) + 1 for k, v in df.items()}
        self.vectors = [(name, self._vec(g)) for (name, _), g in zip(docs, grams)]
        # Inverted: gram -> [(sample number, weight)], so a message costs its own grams' postings
        # rather than a pass over every sample (the samples grew with everyday phrasing, issue 13).
        self.postings: dict[str, list[tuple[int, float]]] = {}
        for i, (_, vec) in enumerate(self.vectors):
            for k, w in vec.items():
                self.postings.setdefault(k, []).append((i, w))

    def _vec(self, grams: Counter) -> dict[str, float]:
        vec = {k: (1 + math.log(c)) * self.idf.get(k, 1.0) for k, c in grams.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        return {k: v / norm for k, v in vec.items()}

    def scores(self, text: str) -> dict[str, float]:
        q = self._vec(_grams(text))
        dots = [0.0] * len(self.vectors)
        for k, w in q.items():
            for i, v in self.postings.get(k, ()):
                dots[i] += w * v
        best: dict[str, float] = {}
        for (name, _), s in zip(self.vectors, dots):
            if s > best.get(name, 0.0):
                best[name] = s
        return best


@lru_cache(maxsize=1)
def _index() -> UtteranceIndex:
    from intents.registry import all_specs

    return UtteranceIndex([s for s in all_specs() if s.sample_utterances])


def _classifier_guess(text: str) -> Guess | None:
    """The trained classifier, if its artifacts exist; never fatal."""
    try:
        from nlp.classifier import get_classifier
        from nlp.taxonomy import label_to_lex_intent
    except ImportError:
        return None
    try:
        pred = get_classifier().predict(text)
    except (FileNotFoundError, OSError, RuntimeError, ValueError):
        return None
    intent = label_to_lex_intent(pred.label)
    if intent is None:
        return None
    return Guess(intent=intent, score=float(pred.confidence), source="classifier", confident=not pred.unsure)


def recognise(text: str, use_classifier: bool = True) -> Guess | None:
    text = (text or "")[:1000]
    if not text.strip():
        return None
    scores = _index().scores(text)
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    utter: Guess | None = None
    if ranked:
        name, top = ranked[0]
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        utter = Guess(name, top, "utterances", top >= SIMILARITY_THRESHOLD and top - second >= MARGIN,
                      runner_up=ranked[1][0] if len(ranked) > 1 else None, runner_up_score=second)
    if utter and utter.confident and utter.score >= 0.6:
        return utter  # near-verbatim sample utterance: no model needed
    clf = _classifier_guess(text) if use_classifier else None
    if clf and clf.confident:
        return clf
    return utter


def slot_patterns(spec: IntentSpec) -> list[tuple[re.Pattern, list[str]]]:
    """Regexes from the intent's sample utterances with {Slot} placeholders, longest literal text
    first. (A slot's own elicitation utterances, like a bare "{Merchant}", apply only while that
    slot is being asked for; matched here they would swallow any opening sentence.)"""
    out = []
    for u in spec.sample_utterances:
        names = _PLACEHOLDER.findall(u)
        if not names:
            continue
        literal = len(_PLACEHOLDER.sub("", u))
        out.append((re.compile(r"^\s*" + _spaces(u) + r"\s*[.!?]*\s*$", re.I), names, literal))
    out.sort(key=lambda t: -t[2])
    return [(rx, names) for rx, names, _ in out]


def _spaces(utterance: str) -> str:
    pieces = []
    for token in re.split(r"(\{\w+\})", utterance):
        if not token:
            continue
        m = _PLACEHOLDER.fullmatch(token)
        if m:
            pieces.append(f"(?P<{m.group(1)}>.+?)")
        else:
            pieces.append(r"\s+".join(re.escape(w) for w in token.split()) if token.strip() else "")
            if token.startswith(" ") and pieces[-1]:
                pieces[-1] = r"\s+" + pieces[-1]
            elif token.startswith(" "):
                pieces[-1] = r"\s+"
            if token.endswith(" ") and token.strip():
                pieces[-1] = pieces[-1] + r"\s+"
    return "".join(pieces)


def extract_slots(spec: IntentSpec, text: str) -> dict[str, str]:
    """Fill slots the way Lex does from an utterance that matches a sample with placeholders."""
    for rx, _names in slot_patterns(spec):
        m = rx.match(text.strip())
        if m:
            return {k: v.strip(" .,!?") for k, v in m.groupdict().items() if v and v.strip()}
    return {}
