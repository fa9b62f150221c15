"""Train the scope model (``nlp/artifacts/scope.npz`` + ``scope.json``): ``make train-scope``.

Data: ``../shared/data/cfpb`` (U.S. CFPB Consumer Complaint Database narratives, public domain).
The in-scope developer narratives (credit/prepaid cards, checking/savings, money transfer) are the
``in_scope`` class; the out-of-scope narratives are labelled with their product family
(``nlp.scope.product_family``): credit reporting, debt collection, mortgage, student loan, vehicle
loan, payday/personal loan. A binary head gives the scope decision (P(in_scope)); one-vs-rest heads
name the product an out-of-scope letter is about, which is the reason an agent reads.

Honest numbers (the CV protocol): a seeded, stratified 80/20 split (``SEED``). On the 80% part,
5-fold stratified cross-validation, reported two ways:
- ``cv_nested`` (the headline): in each outer fold the decision threshold on P(in_scope) is chosen
  by an inner 5-fold CV on that fold's training part only, then applied to the outer test fold;
  P/R/F1 are pooled over the five outer test folds. No number of the test fold chose anything.
- ``cv_on_dev``: out-of-fold scores at the threshold that maximises their F1 (optimistic by the
  choice of that one number; the served threshold is this one, chosen on all of the 80%).
Then the 20% hold-out is scored once, at the served threshold, by a model fitted on the 80%. The
served artifact is refitted on everything with the same threshold. Deterministic: same data, same
seed, same artifact (liblinear on a fixed row order).
scikit-learn is a development dependency only: serving is ``nlp.scope`` (NumPy).
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, train_test_split

from nlp.scope import ARTIFACT, IN_SCOPE, META, ScopeModel, features, product_family

ROOT = Path(__file__).resolve().parent.parent
CFPB = ROOT.parent / "shared" / "data" / "cfpb"
SEED = 20261120
C = 10.0  # weak regularisation: 120 in-scope letters, many rare product words
MIN_DF = 2
MAX_FEATURES = 100_000  # words + bigrams + character grams
TEXT = "Consumer complaint narrative"


def load_cfpb(cfpb_dir: Path = CFPB) -> tuple[list[str], list[str]]:
    """(texts, family labels), de-duplicated by normalised text, in file order."""
    texts: list[str] = []
    labels: list[str] = []
    seen: set[str] = set()
    for name in ("cfpb_in_scope_dev.csv", "cfpb_out_of_scope_labelled.csv", "cfpb_product_only_out_of_scope.csv"):
        with (cfpb_dir / name).open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                text = (row.get(TEXT) or "").strip()
                family = product_family(row.get("Product") or "")
                key = " ".join(text.lower().split())
                if not text or family is None or key in seen:
                    continue
                seen.add(key)
                texts.append(text)
                labels.append(family)
    return texts, labels


_FEATURES: dict[str, list[str]] = {}


def cached_features(text: str) -> list[str]:
    """``nlp.scope.features``, computed once per text per run (cross-validation refits 30 times)."""
    out = _FEATURES.get(text)
    if out is None:
        out = _FEATURES[text] = features(text)
    return out


class Fitted:
    """Vectoriser + the binary scope head + the product-naming heads (one-vs-rest)."""

    def __init__(self, texts: list[str], labels: list[str], heads: bool = True):
        self.vec = TfidfVectorizer(analyzer=cached_features, min_df=MIN_DF, sublinear_tf=True,
                                   max_features=MAX_FEATURES,
                                   dtype=np.float64)
        x = self.vec.fit_transform(texts)
        y = np.array([lab == IN_SCOPE for lab in labels])
        self.scope = LogisticRegression(C=C, class_weight="balanced", solver="liblinear").fit(x, y)
        oos = np.flatnonzero(~y)
        self.products = sorted({labels[i] for i in oos}) if heads else []
        self.heads = [LogisticRegression(C=C, class_weight="balanced", solver="liblinear").fit(
            x[oos], np.array([labels[i] == prod for i in oos])) for prod in self.products]

    def p_in(self, texts: list[str]) -> np.ndarray:
        return self.scope.predict_proba(self.vec.transform(texts))[:, 1]


def _fit(texts: list[str], labels: list[str], heads: bool = False) -> Fitted:
    """A model for measuring (scope head only) or, with ``heads``, for serving."""
    return Fitted(texts, labels, heads)


def prf(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    tp = int((y & pred).sum())
    fp = int((~y & pred).sum())
    fn = int((y & ~pred).sum())
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "tp": tp, "fp": fp, "fn": fn}


def best_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """Threshold on P(in_scope) maximising F1 (ties: the one nearest 0.5)."""
    grid = np.round(np.arange(0.05, 0.96, 0.025), 3)
    scores = [(prf(y, p >= t)["f1"], -abs(t - 0.5), float(t)) for t in grid]
    return max(scores)[2]


def oof_proba(texts: list[str], labels: list[str], folds: int, seed: int) -> np.ndarray:
    """Out-of-fold P(in_scope) for every text."""
    out = np.zeros(len(texts))
    for tr, te in StratifiedKFold(folds, shuffle=True, random_state=seed).split(texts, labels):
        out[te] = _fit([texts[i] for i in tr], [labels[i] for i in tr]).p_in([texts[i] for i in te])
    return out


def cross_validate(texts: list[str], labels: list[str], folds: int = 5, seed: int = SEED) -> dict:
    """Out-of-fold P/R/F1 at the threshold chosen on these out-of-fold scores (optimistic by the
    choice of one number) and at 0.5; ``nested_cv`` is the honest figure."""
    y = np.array([lab == IN_SCOPE for lab in labels])
    p = oof_proba(texts, labels, folds, seed)
    t = best_threshold(y, p)
    return {"folds": folds, "threshold": t, **prf(y, p >= t), "at_0.5": prf(y, p >= 0.5)}


def nested_cv(texts: list[str], labels: list[str], folds: int = 5, seed: int = SEED) -> dict:
    """Pooled P/R/F1 over the outer test folds, each at a threshold chosen by an inner CV on its
    own training part."""
    y = np.array([lab == IN_SCOPE for lab in labels])
    pred = np.zeros(len(texts), dtype=bool)
    thresholds = []
    for tr, te in StratifiedKFold(folds, shuffle=True, random_state=seed).split(texts, labels):
        tr_t, tr_l = [texts[i] for i in tr], [labels[i] for i in tr]
        t = best_threshold(y[tr], oof_proba(tr_t, tr_l, folds, seed + 1))
        thresholds.append(t)
        pred[te] = _fit(tr_t, tr_l).p_in([texts[i] for i in te]) >= t
    return {"folds": folds, "inner_folds": folds, "thresholds": thresholds, **prf(y, pred)}


def write_artifact(vocab: list[str], idf: np.ndarray, coef: np.ndarray, intercept: np.ndarray) -> str:
    """Write ``scope.npz`` small and reproducibly; return a digest of its content (not of the zip
    file, whose entries carry the time they were written). The vocabulary is one UTF-8 text, one
    feature a line; weights are float16 (the largest part: 7 rows × ~80k features), which moves no
    probability by more than 1e-4 on the training letters (``main`` checks 1e-3)."""
    arrays = {"vocab_utf8": np.frombuffer("\n".join(vocab).encode("utf-8"), dtype=np.uint8),
              "idf": np.asarray(idf, dtype=np.float32),
              "coef": np.asarray(coef, dtype=np.float32).astype(np.float16),  # via float32: one rounding path
              "intercept": np.asarray(intercept, dtype=np.float32)}
    np.savez_compressed(ARTIFACT, **arrays)
    digest = hashlib.sha256()
    for name in sorted(arrays):
        digest.update(name.encode() + arrays[name].tobytes())
    return digest.hexdigest()[:12]


def export(fit: Fitted, threshold: float, info: dict) -> ScopeModel:
    vocab = [t for t, _ in sorted(fit.vec.vocabulary_.items(), key=lambda kv: kv[1])]
    coef = np.vstack([fit.scope.coef_] + [h.coef_ for h in fit.heads])
    intercept = np.concatenate([fit.scope.intercept_] + [h.intercept_ for h in fit.heads])
    digest = write_artifact(vocab, fit.vec.idf_, coef, intercept)
    meta = {"classes": [IN_SCOPE] + fit.products, "threshold": threshold, "version": f"tfidf-lr-{digest}",
            "seed": SEED, "C": C, "min_df": MIN_DF, "max_features": MAX_FEATURES, **info}
    META.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return ScopeModel.load()


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="python -m training.scope")
    ap.add_argument("--no-write", action="store_true", help="measure only; keep the committed artifact")
    args = ap.parse_args(argv)
    texts, labels = load_cfpb()
    counts = {lab: labels.count(lab) for lab in sorted(set(labels))}
    dev_idx, test_idx = train_test_split(np.arange(len(texts)), test_size=0.2, random_state=SEED, stratify=labels)
    dev_t, dev_l = [texts[i] for i in dev_idx], [labels[i] for i in dev_idx]
    cv = cross_validate(dev_t, dev_l)
    nested = nested_cv(dev_t, dev_l)
    fit = _fit(dev_t, dev_l)
    test_y = np.array([labels[i] == IN_SCOPE for i in test_idx])
    holdout = prf(test_y, fit.p_in([texts[i] for i in test_idx]) >= cv["threshold"])
    report = {"n": len(texts), "classes": counts, "split": {"seed": SEED, "dev": len(dev_idx), "holdout": len(test_idx)},
              "cv_nested": nested, "cv_on_dev": cv, "holdout": {"threshold": cv["threshold"], **holdout}}
    if not args.no_write:
        fit = _fit(texts, labels, heads=True)
        served = export(fit, cv["threshold"], {
            "cv_f1": nested["f1"], "cv_precision": nested["precision"], "cv_recall": nested["recall"],
            "cv_protocol": "nested: 5 outer stratified folds of the seeded 80% split, threshold by inner 5-fold CV",
            "cv_oof_best_threshold_f1": cv["f1"], "holdout_f1": holdout["f1"],
            "holdout_precision": holdout["precision"], "holdout_recall": holdout["recall"], "n": len(texts)})
        gap = float(np.abs(served.p_in_scope(texts) - fit.p_in(texts)).max())
        if gap > 1e-3:
            raise SystemExit(f"served scope model differs from scikit-learn by {gap:.2e}")
        report["artifact"] = {"threshold": cv["threshold"], "version": served.version, "max_proba_gap": gap,
                              "features": len(served.idf)}
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main(sys.argv[1:])
