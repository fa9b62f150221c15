"""Run-time intent classifier: int8 ONNX MiniLM served with onnxruntime + ``tokenizers``.

Why not torch/transformers here: they are ~1.1 GB unzipped and cannot fit a 250 MB Lambda; the
quantised graph plus the tokenizers library answer a short message in a few milliseconds on one
thread. Nothing heavy happens at import: onnxruntime and the model load on the first
``get_classifier()`` (once per container, under a lock), so handlers that never classify pay
nothing.

Artifacts (``nlp/artifacts/``, written by ``training.export``): ``model.int8.onnx`` (inputs
``input_ids``/``attention_mask``, output ``logits``), ``tokenizer.json``, ``labels.json`` and
``calibration.json`` (softmax temperature and the abstention threshold chosen on the dev split)
and, when the ensemble is on, ``tfidf.npz`` (a word TF-IDF + logistic-regression member).
"""
from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel

from nlp.taxonomy import label_to_category, label_to_lex_intent

if TYPE_CHECKING:  # pragma: no cover - typing only
    import onnxruntime

MODEL_FILE = "model.int8.onnx"
TOKENIZER_FILE = "tokenizer.json"
LABELS_FILE = "labels.json"
CALIBRATION_FILE = "calibration.json"
TFIDF_FILE = "tfidf.npz"
MAX_LENGTH = 64
# Tokenise a long text's first PREFIX_CHARS only when that provably yields the same 64 tokens: a
# letter of a few thousand characters otherwise costs ~1 ms of tokenising for tokens truncation drops.
PREFIX_CHARS = 1024
LONGEST_WORD = 100  # BERT WordPiece turns a longer word into one [UNK]: no piece of a word cut at the
#                     prefix's end can end more than this many characters before it
_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token_pattern


class IntentPrediction(BaseModel):
    """One classified message. ``unsure`` means: do not act on it automatically, ask or escalate."""

    label: str
    confidence: float
    top3: list[tuple[str, float]]
    unsure: bool
    category: str
    category_confidence: float
    lex_intent: str | None


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = logits.astype(np.float64) / temperature
    z -= z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    z = logits.astype(np.float64) - logits.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


class TfidfMember:
    """Word 1-2-gram TF-IDF + logistic regression, evaluated with NumPy.

    Reproduces scikit-learn's ``TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)`` (lower
    case, default token pattern, l2 norm) and ``LogisticRegression.predict_log_proba`` from the
    arrays ``training.train.train_tfidf`` saved; ``training.export`` checks the match on the dev split.
    """

    def __init__(self, vocab: list[str], idf: np.ndarray, coef: np.ndarray,
                 intercept: np.ndarray) -> None:
        self._index = {term: i for i, term in enumerate(vocab)}
        self._idf = idf.astype(np.float64)
        self._coef_t = coef.astype(np.float64).T  # (features, labels)
        self._intercept = intercept.astype(np.float64)

    @classmethod
    def from_file(cls, path: Path) -> "TfidfMember":
        with np.load(path, allow_pickle=False) as z:
            return cls([str(t) for t in z["vocab"]], z["idf"], z["coef"], z["intercept"])

    def _features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        words = _TOKEN.findall(text.lower())
        counts: dict[int, int] = {}
        for term in words + [f"{a} {b}" for a, b in zip(words, words[1:])]:
            j = self._index.get(term)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        val = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts))))
        val *= self._idf[idx]
        norm = np.sqrt((val * val).sum())
        return idx, (val / norm if norm > 0 else val)

    def log_proba(self, texts: list[str]) -> np.ndarray:
        out = np.empty((len(texts), len(self._intercept)), dtype=np.float64)
        for r, text in enumerate(texts):
            idx, val = self._features(text)
            out[r] = val @ self._coef_t[idx] + self._intercept
        return log_softmax(out)


class IntentClassifier:
    """Fine-tuned MiniLM (int8 ONNX), optionally ensembled with a TF-IDF member.

    ``logits`` returns the ensemble's scores, ``(1 - w) * log_softmax(minilm) + w * log p(tfidf)``
    with ``w = tfidf_weight`` chosen on the dev split; temperature and threshold are calibrated on
    exactly these scores, so callers treat them as ordinary logits.
    """

    def __init__(self, session: "onnxruntime.InferenceSession", tokenizer: Any, labels: list[str],
                 temperature: float = 1.0, threshold: float = 0.0,
                 tfidf: TfidfMember | None = None, tfidf_weight: float = 0.0) -> None:
        self._session = session
        self._tfidf = tfidf if tfidf_weight > 0 else None
        self.tfidf_weight = float(tfidf_weight) if tfidf is not None else 0.0
        self._tokenizer = tokenizer
        self.labels = list(labels)
        self.temperature = float(temperature)
        self.threshold = float(threshold)
        self._categories = [label_to_category(lab) for lab in self.labels]
        self._input_names = {i.name for i in session.get_inputs()}
        self.model_dir: Path | None = None

    @classmethod
    def load(cls, model_dir: Path | None = None, *, calibrated: bool = True) -> "IntentClassifier":
        """Load the artifacts; ``calibrated=False`` ignores calibration.json (export uses it)."""
        import onnxruntime as ort
        from tokenizers import Tokenizer

        if model_dir is None:
            from chalicelib.core.settings import get_settings

            model_dir = get_settings().model_dir
        model_dir = Path(model_dir)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = ort.InferenceSession(str(model_dir / MODEL_FILE), sess_options=opts,
                                       providers=["CPUExecutionProvider"])
        tokenizer = Tokenizer.from_file(str(model_dir / TOKENIZER_FILE))
        tokenizer.enable_truncation(max_length=MAX_LENGTH)
        tokenizer.no_padding()
        labels = json.loads((model_dir / LABELS_FILE).read_text(encoding="utf-8"))
        temperature, threshold, tfidf, weight = 1.0, 0.0, None, 0.0
        if calibrated:
            cal = json.loads((model_dir / CALIBRATION_FILE).read_text(encoding="utf-8"))
            temperature, threshold = cal["temperature"], cal["threshold"]
            weight = float(cal.get("tfidf_weight", 0.0))
            if weight > 0:
                tfidf = TfidfMember.from_file(model_dir / TFIDF_FILE)
        clf = cls(session, tokenizer, labels, temperature, threshold, tfidf, weight)
        clf.model_dir = model_dir
        return clf

    def logits(self, texts: list[str]) -> np.ndarray:
        """Uncalibrated scores, one row per text: the transformer's logits, or the ensemble's."""
        texts = list(texts)
        nn = self.nn_logits(texts)
        if self._tfidf is None or not texts:
            return nn
        w = self.tfidf_weight
        return ((1.0 - w) * log_softmax(nn) + w * self._tfidf.log_proba(texts)).astype(np.float32)

    def nn_logits(self, texts: list[str]) -> np.ndarray:
        """The transformer's raw logits, one row per text.

        Each text runs on its own, unpadded: dynamic int8 quantisation scales activations by the
        min/max of the whole input tensor, so padding and neighbouring rows in a batch would shift
        a message's scores (by a few points of probability). One message per call keeps a
        prediction independent of what it was batched with, and costs little on one thread.
        """
        out = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        for r, enc in enumerate(self.encode(list(texts))):
            ids = np.asarray([enc.ids], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
            if "token_type_ids" in self._input_names:
                feeds["token_type_ids"] = np.zeros_like(ids)
            out[r] = self._session.run(["logits"], feeds)[0][0]
        return out

    def encode(self, texts: list[str]) -> list[Any]:
        """The truncated encodings of ``texts``, identical to tokenising each whole text.

        A text longer than ``PREFIX_CHARS`` is tokenised from its prefix; the prefix's encoding is
        kept when it was truncated and its last kept token ends more than ``LONGEST_WORD``
        characters before the cut (then that token's word lies wholly inside the prefix, and
        WordPiece tokenises word by word); otherwise the whole text is tokenised."""
        encs = self._tokenizer.encode_batch([t[:PREFIX_CHARS] for t in texts])
        for r, (text, enc) in enumerate(zip(texts, encs)):
            if len(text) > PREFIX_CHARS and not (len(enc.ids) >= MAX_LENGTH
                                                 and enc.offsets[-2][1] < PREFIX_CHARS - LONGEST_WORD):
                encs[r] = self._tokenizer.encode(text)
        return encs

    def _prediction(self, probs: np.ndarray) -> IntentPrediction:
        order = np.argsort(-probs, kind="stable")
        top = int(order[0])
        label = self.labels[top]
        category = self._categories[top]
        category_conf = float(sum(p for p, c in zip(probs, self._categories) if c == category))
        confidence = float(probs[top])
        return IntentPrediction(
            label=label,
            confidence=confidence,
            top3=[(self.labels[int(i)], float(probs[int(i)])) for i in order[:3]],
            unsure=confidence < self.threshold,
            category=category,
            category_confidence=category_conf,
            lex_intent=label_to_lex_intent(label),
        )

    def predict(self, text: str) -> IntentPrediction:
        return self.predict_batch([text])[0]

    def predict_batch(self, texts: list[str]) -> list[IntentPrediction]:
        probs = softmax(self.logits(list(texts)), self.temperature)
        return [self._prediction(p) for p in probs]


_lock = threading.Lock()
_instance: IntentClassifier | None = None


def get_classifier() -> IntentClassifier:
    """The process-wide classifier, loaded on first use (double-checked under a lock)."""
    global _instance
    if _instance is None:
        with _lock:
            if _instance is None:
                _instance = IntentClassifier.load()
    return _instance
