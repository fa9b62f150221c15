"""Which product a long complaint is about: ours (card payments, card and account disputes) or
another one (credit reports, debt collection, mortgages, student/vehicle/payday loans), served with
NumPy from ``nlp/artifacts/scope.npz``.

Why a TF-IDF + logistic-regression model and not the intent classifier: the intent classifier
reads the first 64 tokens of a short chat message, and a complaint letter names its product
anywhere in a page of text. Word uni- and bigrams over the whole document, weighted by TF-IDF, are
what separates "the bureau keeps reporting this account" from "the merchant charged my card
twice"; a linear model over them trains in seconds (``python -m training.scope``), is served by a
dot product, and its weights can be read per sentence, which is how the long-text triage names the
sentences that decided the product.

The featuriser below is the single definition used both in training (passed to scikit-learn as
the analyzer) and in serving, so the two cannot drift apart; ``training.scope`` checks that the
served probabilities equal scikit-learn's on every training document before it writes the
artifact.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = ["IN_SCOPE", "PRODUCT_FAMILIES", "PRODUCT_NAMES", "ScopeModel", "features", "get_scope_model",
           "product_family", "family_of_hit", "word_grams", "ARTIFACT", "META"]

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
ARTIFACT = ARTIFACTS / "scope.npz"
META = ARTIFACTS / "scope.json"

IN_SCOPE = "in_scope"
# Model classes: ours, then the other products a support inbox sees, named as an agent would.
PRODUCT_NAMES: dict[str, str] = {
    IN_SCOPE: "card payments and accounts",
    "credit_reporting": "credit report",
    "debt_collection": "debt collection",
    "mortgage": "mortgage",
    "student_loan": "student loan",
    "vehicle_loan": "vehicle loan or lease",
    "personal_loan": "payday or personal loan",
}
PRODUCT_FAMILIES = list(PRODUCT_NAMES)

_FAMILY_RULES: list[tuple[str, str]] = [
    ("credit report", "credit_reporting"), ("debt collection", "debt_collection"), ("mortgage", "mortgage"),
    ("student loan", "student_loan"), ("vehicle loan", "vehicle_loan"), ("payday", "personal_loan"),
    ("consumer loan", "personal_loan"), ("debt or credit management", "debt_collection"),
    ("credit card", IN_SCOPE), ("prepaid card", IN_SCOPE), ("checking or savings", IN_SCOPE),
    ("bank account", IN_SCOPE), ("money transfer", IN_SCOPE),
]


def product_family(product: str) -> str | None:
    """Model class of a CFPB ``Product`` value (None: a product too rare to learn, e.g. "Other")."""
    p = product.lower()
    for needle, family in _FAMILY_RULES:
        if needle in p:
            return family
    return None


# CFPB's own redaction marks (XXXX, XX/XX/XXXX, {$12.00}) and our typed redaction tokens carry no
# product signal, and a model must not learn "XXXX means CFPB, [CARD ****1234] means email".
_NOISE_RE = re.compile(r"\{\$[\d,.]+\}|\b[xX]{2,}(?:/[xX]{2,})*\b|\[[A-Z_]+(?: \*{4}\d{4})?\]")
_WORD_RE = re.compile(r"[a-z][a-z']*[a-z]|[a-z]")


# The product an other-product word of ``nlp.doc_signals.OTHER_PRODUCT_RX`` names (first match wins).
_HIT_FAMILIES: list[tuple[re.Pattern[str], str]] = [(re.compile(rx), fam) for rx, fam in (
    (r"mortgage|escrow|foreclos|loan\s+modification|hipotec|ejecuci", "mortgage"),
    (r"credit\s+(?:report|bureau|file|score|history)|equifax|experian|trans\s?union|fcra|hard\s+inquir|bur[óo]",
     "credit_reporting"),
    (r"student|navient|sallie|nelnet|estudiantil", "student_loan"),
    (r"debt\s+collect|collection\s+agency|collector|fdcpa|15\s+u\.?s\.?c|agencia\s+de\s+cobr", "debt_collection"),
    (r"auto|car\s+loan|vehicle|repossess|lease", "vehicle_loan"),
    (r"payday|title\s+loan|personal\s+loan|pr[ée]stamo\s+personal", "personal_loan"))]


def family_of_hit(hit: str) -> str | None:
    """The model class an other-product word names ("escrow" -> mortgage), None if none."""
    low = hit.lower()
    return next((fam for rx, fam in _HIT_FAMILIES if rx.search(low)), None)


CHAR_NGRAMS = (3, 4, 5)


def _words(text: str) -> list[str]:
    return [w for w in _WORD_RE.findall(_NOISE_RE.sub(" ", text or "").lower()) if len(w) > 1]


def word_grams(word: str) -> list[str]:
    """The ``#``-marked character 3-5-grams inside one word (``<word>`` padded)."""
    padded = f"<{word}>"
    return ["#" + padded[i:i + n] for n in CHAR_NGRAMS for i in range(len(padded) - n + 1)]


def features(text: str) -> list[str]:
    """Lower-cased words (two letters or more), adjacent word bigrams, and ``#``-marked character
    3-5-grams inside each word (``<word>`` padded). The character grams are why misspelt and
    inflected product words ("mortgag", "collecter", "Transunion's") still count: on the seeded
    CV split they lift F1 from 0.65 to 0.70 (``training.scope``)."""
    words = _words(text)
    out = words + [f"{a} {b}" for a, b in zip(words, words[1:])]
    for w in words:
        out.extend(word_grams(w))
    return out


WORD_CACHE = 50_000  # distinct words whose feature columns a model keeps (a page of text: a few hundred)


class ScopeModel:
    """Sublinear TF-IDF (l2-normalised), then one multinomial logistic regression: a softmax over
    ``in_scope`` (row 0 of ``coef``) and the other products (rows 1…). P(in scope) is the first
    probability; the product a letter that is not ours is about is the likeliest of the others.
    Plain NumPy."""

    def __init__(self, vocab: list[str], idf: np.ndarray, coef: np.ndarray, intercept: np.ndarray,
                 classes: list[str], threshold: float = 0.5, version: str = "unversioned"):
        self.index = {term: i for i, term in enumerate(vocab)}
        self.idf = np.asarray(idf, dtype=np.float64)
        self.coef = np.asarray(coef, dtype=np.float64)  # (1 + products, features)
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.classes = list(classes)  # [IN_SCOPE, product, ...]
        self.threshold = float(threshold)
        self.version = version
        self._cache: dict[str, list[int]] = {}

    @classmethod
    def load(cls, path: Path = ARTIFACT, meta: Path = META) -> "ScopeModel":
        with np.load(path, allow_pickle=False) as z:
            vocab = z["vocab_utf8"].tobytes().decode("utf-8").split("\n")
            arrays = (z["idf"], z["coef"], z["intercept"])
        info = json.loads(meta.read_text(encoding="utf-8"))
        if info.get("head") != "softmax":  # an artifact of the older one-vs-rest heads: retrain
            raise ValueError(f"{meta.name}: head {info.get('head')!r} is not 'softmax'; run make train-scope")
        return cls(vocab, *arrays, classes=info["classes"], threshold=info["threshold"],
                   version=info.get("version", "unversioned"))

    def _word_cols(self, word: str) -> list[int]:
        """Columns of a word and its character grams, cached: the grams are most of the features
        and a letter repeats its words, so a word is looked up once per process, not per use."""
        cols = self._cache.get(word)
        if cols is None:
            index = self.index
            cols = [j for f in [word, *word_grams(word)] if (j := index.get(f)) is not None]
            if len(self._cache) >= WORD_CACHE:
                self._cache.clear()
            self._cache[word] = cols
        return cols

    def _row(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Sparse TF-IDF row of ``features(text)``, computed word by word (same counts)."""
        counts: dict[int, int] = {}
        index = self.index
        words = _words(text)
        for w in words:
            for j in self._word_cols(w):
                counts[j] = counts.get(j, 0) + 1
        for a, b in zip(words, words[1:]):
            j = index.get(f"{a} {b}")
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        cols = np.fromiter(counts, dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        vals = (1.0 + np.log(tf)) * self.idf[cols]
        return cols, vals / np.linalg.norm(vals)

    def logits(self, texts: list[str]) -> np.ndarray:
        out = np.tile(self.intercept, (len(texts), 1))
        for i, text in enumerate(texts):
            cols, vals = self._row(text)
            if len(cols):
                out[i] += self.coef[:, cols] @ vals
        return out

    def proba(self, texts: list[str]) -> np.ndarray:
        """Softmax over the classes, one row per text."""
        z = self.logits(texts)
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def p_in_scope(self, texts: list[str]) -> np.ndarray:
        return self.proba(texts)[:, 0]

    def scores(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(P(in scope) per text, the other products' probabilities per text, renormalised)."""
        p = self.proba(texts)
        prod = p[:, 1:]
        return p[:, 0], prod / np.clip(prod.sum(axis=1, keepdims=True), 1e-12, None)

    def product(self, texts: list[str]) -> list[str]:
        """The other product each text is most about (never ``in_scope``)."""
        _, prod = self.scores(texts)
        return [self.classes[1 + int(i)] for i in prod.argmax(axis=1)]


@lru_cache(maxsize=1)
def get_scope_model() -> ScopeModel | None:
    """The committed model, loaded once per process; None when the artifact is missing (the
    long-text triage then decides scope from its rules alone)."""
    try:
        return ScopeModel.load()
    except (OSError, ValueError, KeyError):
        return None
