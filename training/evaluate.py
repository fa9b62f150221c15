"""Evaluate the served intent classifier (``python -m training.evaluate``; ``make evaluate``).

Runs in the test venv (onnxruntime + numpy only) on the committed int8 model. Reports, on the
seeded dev split recorded in ``nlp/artifacts/split.json``: accuracy, macro-F1, dispute-category
accuracy, and automated-routing precision/coverage at the abstention threshold (plus a two-fold
estimate in which the threshold is chosen on one half and measured on the other, so the number is
not only the one the threshold was fitted to). On ``../shared/data/cfpb/``: how often in-scope
dispute narratives get a dispute category, and how often out-of-scope narratives wrongly do.
Speed is measured per message on one thread. ``dev_int8_onnx`` is what is served (the int8
MiniLM, ensembled with the TF-IDF member when ``tfidf_weight`` > 0); ``dev_int8_minilm_only`` is
the transformer alone. In ``.venv-train`` it also compares with the fp32 torch model the int8
graph came from. Writes ``nlp/artifacts/eval.json`` and
``docs/confusion-matrix.png``.

The calibration helpers (temperature scaling, threshold choice) live here because they are plain
NumPy and ``training.export`` needs exactly the same definitions as this report.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import re
import struct
import sys
import time
import zlib
from pathlib import Path

import numpy as np

from nlp.classifier import IntentClassifier, softmax
from nlp.taxonomy import CATEGORIES, label_to_category

REPO_ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO_ROOT / "nlp" / "artifacts"
CFPB_DIR = REPO_ROOT.parent / "shared" / "data" / "cfpb"
CONFUSION_PNG = REPO_ROOT / "docs" / "confusion-matrix.png"
TORCH_MODEL_DIR = REPO_ROOT / ".cache" / "intent-model"
ROUTING_TARGET = 0.99


# ---------------------------------------------------------------- calibration helpers

def nll(logits: np.ndarray, y: np.ndarray, temperature: float) -> float:
    p = softmax(logits, temperature)
    return float(-np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None)).mean())


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """Temperature minimising dev NLL (golden-section search on log T in [0.05, 20])."""
    lo, hi = math.log(0.05), math.log(20.0)
    g = (math.sqrt(5) - 1) / 2
    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    fa, fb = nll(logits, y, math.exp(a)), nll(logits, y, math.exp(b))
    for _ in range(60):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - g * (hi - lo)
            fa = nll(logits, y, math.exp(a))
        else:
            lo, a, fa = a, b, fb
            b = lo + g * (hi - lo)
            fb = nll(logits, y, math.exp(b))
    return float(math.exp((lo + hi) / 2))


def expected_calibration_error(conf: np.ndarray, correct: np.ndarray, bins: int = 15) -> float:
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            ece += m.mean() * abs(conf[m].mean() - correct[m].mean())
    return float(ece)


def routing_at(conf: np.ndarray, correct: np.ndarray, threshold: float) -> dict:
    """Precision (category correct) and coverage of the messages routed automatically."""
    routed = conf >= threshold
    n = int(routed.sum())
    return {"threshold": float(threshold), "routed": n, "coverage": float(routed.mean()),
            "precision": float(correct[routed].mean()) if n else 1.0}


def choose_threshold(conf: np.ndarray, correct: np.ndarray, target: float = ROUTING_TARGET) -> float:
    """Lowest confidence threshold whose routed set still has precision >= target.

    Walks the messages from most to least confident and keeps the largest prefix whose precision
    is at least ``target``; the threshold is the confidence of the last message in that prefix.
    """
    order = np.argsort(-conf, kind="stable")
    hits = np.cumsum(correct[order].astype(np.float64))
    prec = hits / np.arange(1, len(order) + 1)
    ok = np.nonzero(prec >= target)[0]
    if len(ok) == 0:
        return 1.0
    k = int(ok[-1])
    threshold = float(conf[order[k]])
    # Ties at the threshold join the routed set: step up until precision holds with them in.
    while routing_at(conf, correct, threshold)["precision"] < target and k > 0:
        k -= 1
        threshold = float(np.nextafter(conf[order[k]], 2.0)) if conf[order[k]] == threshold \
            else float(conf[order[k]])
    return threshold


def dev_halves(n: int) -> np.ndarray:
    """The fixed 2-fold cut of the dev split (True = first half) used by export and evaluate."""
    return np.random.default_rng(0).permutation(n) < n // 2


# ---------------------------------------------------------------- metrics

def macro_f1(y: np.ndarray, pred: np.ndarray, n_classes: int) -> float:
    f1s = []
    for c in range(n_classes):
        tp = int(((pred == c) & (y == c)).sum())
        fp = int(((pred == c) & (y != c)).sum())
        fn = int(((pred != c) & (y == c)).sum())
        denom = 2 * tp + fp + fn
        f1s.append(2 * tp / denom if denom else 0.0)
    return float(np.mean(f1s))


def confusion(y: np.ndarray, pred: np.ndarray, n: int) -> np.ndarray:
    m = np.zeros((n, n), dtype=np.int64)
    np.add.at(m, (y, pred), 1)
    return m


def point_metrics(logits: np.ndarray, y: np.ndarray, labels: list[str]) -> dict:
    """Accuracy, macro-F1 and category accuracy of the arg-max (no calibration involved)."""
    pred = logits.argmax(1)
    cats = np.array([label_to_category(lab) for lab in labels])
    return {"accuracy": float((pred == y).mean()), "macro_f1": macro_f1(y, pred, len(labels)),
            "category_accuracy": float((cats[pred] == cats[y]).mean())}


def dev_metrics(logits: np.ndarray, y: np.ndarray, labels: list[str], temperature: float,
                threshold: float) -> dict:
    probs = softmax(logits, temperature)
    pred = probs.argmax(1)
    conf = probs.max(1)
    cats = np.array([label_to_category(lab) for lab in labels])
    cat_correct = cats[pred] == cats[y]
    out = {
        "n": int(len(y)),
        "accuracy": float((pred == y).mean()),
        "macro_f1": macro_f1(y, pred, len(labels)),
        "category_accuracy": float(cat_correct.mean()),
        "ece": expected_calibration_error(conf, pred == y),
        "routing": routing_at(conf, cat_correct, threshold),
    }
    # Honest estimate: choose the threshold on one half of the dev split, measure on the other.
    half = dev_halves(len(y))
    folds = []
    for fit_mask in (half, ~half):
        t = choose_threshold(conf[fit_mask], cat_correct[fit_mask])
        folds.append(routing_at(conf[~fit_mask], cat_correct[~fit_mask], t))
    out["routing_two_fold"] = {
        "precision": float(np.mean([f["precision"] for f in folds])),
        "coverage": float(np.mean([f["coverage"] for f in folds])),
    }
    return out


# ---------------------------------------------------------------- confusion-matrix picture

def _png(rgb: np.ndarray) -> bytes:
    """Minimal PNG encoder (8-bit RGB, no filter) so the picture needs no imaging library."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[r].astype(np.uint8).tobytes() for r in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def write_confusion_png(matrix: np.ndarray, labels: list[str], path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    norm = matrix / np.maximum(matrix.sum(1, keepdims=True), 1)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        cell = 8
        shade = np.sqrt(norm)  # makes the rare off-diagonal confusions visible
        img = np.stack([255 * (1 - shade), 255 * (1 - shade), 255 - 90 * shade], axis=-1)
        img = np.repeat(np.repeat(img, cell, axis=0), cell, axis=1)
        path.write_bytes(_png(img))
        return "minimal-png"
    fig, ax = plt.subplots(figsize=(16, 16), dpi=80)
    ax.imshow(np.sqrt(norm), cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=6)
    ax.set_yticks(range(len(labels)), labels, fontsize=6)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("BANKING77 dev split, served model (row-normalised, sqrt scale)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return "matplotlib"


# ---------------------------------------------------------------- CFPB

_SENT = re.compile(r"(?<=[.!?])\s+|\n+")


def _sentences(text: str, limit: int = 8) -> list[str]:
    parts = [s.strip() for s in _SENT.split(text) if len(s.split()) >= 4]
    return parts[:limit] or [text]


def _read_cfpb(name: str) -> list[dict]:
    with (CFPB_DIR / name).open(newline="", encoding="utf-8") as fh:
        return [r for r in csv.DictReader(fh) if r.get("Consumer complaint narrative", "").strip()]


def _in_scope_calls(clf: IntentClassifier, texts: list[str]) -> dict[str, np.ndarray]:
    """Per narrative: is it routed to a dispute category, by its opening and by any sentence?"""
    head = clf.predict_batch(texts)
    opening = np.array([p.category != "out_of_scope" and not p.unsure for p in head])
    opening_raw = np.array([p.category != "out_of_scope" for p in head])
    any_sentence = []
    for text in texts:
        preds = clf.predict_batch(_sentences(text))
        any_sentence.append(any(p.category != "out_of_scope" and not p.unsure for p in preds))
    return {"opening": opening, "opening_no_abstention": opening_raw,
            "any_sentence": np.array(any_sentence)}


def cfpb_metrics(clf: IntentClassifier, limit: int | None = None) -> dict:
    if not CFPB_DIR.exists():
        return {"skipped": f"{CFPB_DIR} not found"}
    out: dict = {"definition": (
        "in-scope call = predicted category is not out_of_scope and the prediction is not unsure; "
        "'opening' classifies the first 64 tokens, 'any_sentence' the first 8 sentences")}
    rows = _read_cfpb("cfpb_in_scope_dev.csv")
    for flag in ("yes", "no"):
        texts = [r["Consumer complaint narrative"] for r in rows if r["dispute_related_issue"] == flag]
        calls = _in_scope_calls(clf, texts)
        out[f"in_scope_dev_dispute_{flag}"] = {"n": len(texts), **{
            f"dispute_category_rate_{k}": float(v.mean()) for k, v in calls.items()}}
    for name in ("cfpb_out_of_scope_labelled.csv", "cfpb_product_only_out_of_scope.csv"):
        texts = [r["Consumer complaint narrative"] for r in _read_cfpb(name)][:limit]
        calls = _in_scope_calls(clf, texts)
        out[name.removesuffix(".csv")] = {"n": len(texts), **{
            f"false_in_scope_rate_{k}": float(v.mean()) for k, v in calls.items()}}
    return out


# ---------------------------------------------------------------- speed and torch comparison

def speed(clf: IntentClassifier, texts: list[str], passes: int = 3) -> dict:
    """Per-message latency on one thread; the best of several passes, since the machine is shared
    and other jobs' load only ever adds time."""
    clf.predict(texts[0])
    pass_ms = []
    for _ in range(passes):
        times = []
        for t in texts:
            s = time.perf_counter()
            clf.predict(t)
            times.append(time.perf_counter() - s)
        pass_ms.append(np.array(times) * 1000)
    best = min(pass_ms, key=lambda ms: float(ms.mean()))
    return {"n": len(best), "threads": 1, "passes": passes, "mean_ms": float(best.mean()),
            "median_ms": float(np.median(best)), "p95_ms": float(np.percentile(best, 95))}


def torch_comparison(dev_texts: list[str], y: np.ndarray, labels: list[str],
                     temperature: float, threshold: float,
                     model_dir: Path = TORCH_MODEL_DIR) -> dict | None:
    """fp32 torch model vs int8 ONNX, only where torch and the trained checkpoint exist."""
    try:
        import torch
    except ImportError:
        return None
    if not (model_dir / "head.pt").exists():
        return None
    from training.checkpoint import load_trained

    torch.set_num_threads(1)
    model, tok = load_trained(model_dir, len(labels))
    enc = tok(dev_texts, truncation=True, max_length=64)["input_ids"]
    from training.train import predict_logits

    logits = predict_logits(model, enc)
    times = []
    with torch.inference_mode():
        for e in enc[:300]:
            ids = torch.tensor([e])
            s = time.perf_counter()
            model(ids, torch.ones_like(ids))
            times.append(time.perf_counter() - s)
    return {"metrics": point_metrics(logits, y, labels),
            "speed_mean_ms_one_thread": float(np.mean(times) * 1000)}


# ---------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description="Evaluate the intent classifier.")
    p.add_argument("--model-dir", type=Path, default=ARTIFACTS)
    p.add_argument("--cfpb-limit", type=int, default=None,
                   help="cap the rows read from each out-of-scope CFPB file")
    p.add_argument("--out", type=Path, default=ARTIFACTS / "eval.json")
    p.add_argument("--png", type=Path, default=CONFUSION_PNG, help="confusion-matrix picture")
    p.add_argument("--torch-model", type=Path, default=TORCH_MODEL_DIR,
                   help="trained checkpoint for the fp32 comparison (needs .venv-train)")
    args = p.parse_args(argv)

    from training.train import load_split

    clf = IntentClassifier.load(args.model_dir)
    _, dev = load_split()
    dev_texts = [t for t, _ in dev]
    index = {lab: i for i, lab in enumerate(clf.labels)}
    y = np.array([index[lab] for _, lab in dev])
    logits = clf.logits(dev_texts)
    report: dict = {"model": str(args.model_dir.relative_to(REPO_ROOT))
                    if args.model_dir.is_relative_to(REPO_ROOT) else str(args.model_dir),
                    "temperature": clf.temperature, "threshold": clf.threshold,
                    "routing_target_precision": ROUTING_TARGET}
    report["dev_int8_onnx"] = dev_metrics(logits, y, clf.labels, clf.temperature, clf.threshold)
    cal_path = args.model_dir / "calibration.json"
    if cal_path.exists():
        cal = json.loads(cal_path.read_text(encoding="utf-8"))
        if "two_fold" in cal:
            # training.export's estimate: blend weight, temperature and threshold all chosen on one
            # half of the dev split and measured on the other (both ways).
            report["dev_two_fold_calibration"] = {
                "threshold_margin": cal.get("threshold_margin"), **cal["two_fold"]}
    report["tfidf_weight"] = clf.tfidf_weight
    report["dev_int8_minilm_only"] = point_metrics(clf.nn_logits(dev_texts), y, clf.labels)
    pred = logits.argmax(1)
    cats = [label_to_category(lab) for lab in clf.labels]
    cat_index = {c: i for i, c in enumerate(CATEGORIES)}
    cy = np.array([cat_index[cats[i]] for i in y])
    cp = np.array([cat_index[cats[i]] for i in pred])
    report["dev_category_confusion"] = {
        "categories": CATEGORIES, "matrix": confusion(cy, cp, len(CATEGORIES)).tolist()}
    m = confusion(y, pred, len(clf.labels))
    off = [(int(m[i, j]), clf.labels[i], clf.labels[j]) for i in range(len(m)) for j in range(len(m))
           if i != j and m[i, j] > 0]
    report["dev_top_confusions"] = [{"true": a, "predicted": b, "count": c}
                                    for c, a, b in sorted(off, reverse=True)[:15]]
    report["confusion_png"] = {"path": str(args.png.relative_to(REPO_ROOT))
                               if args.png.is_relative_to(REPO_ROOT) else str(args.png),
                               "renderer": write_confusion_png(m, clf.labels, args.png)}
    report["speed_int8_onnx"] = speed(clf, dev_texts[:300])
    torch_cmp = torch_comparison(dev_texts, y, clf.labels, clf.temperature, clf.threshold,
                                 args.torch_model)
    if torch_cmp is not None:
        report["dev_torch_fp32"] = torch_cmp
    elif args.out.exists():
        previous = json.loads(args.out.read_text(encoding="utf-8"))
        if "dev_torch_fp32" in previous and previous.get("threshold") == clf.threshold:
            report["dev_torch_fp32"] = previous["dev_torch_fp32"]
    report["cfpb"] = cfpb_metrics(clf, args.cfpb_limit)
    size = sum(f.stat().st_size for f in args.model_dir.iterdir() if f.is_file())
    report["artifacts_bytes"] = size
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    d = report["dev_int8_onnx"]
    print(f"dev n={d['n']} accuracy={d['accuracy']:.4f} macro_f1={d['macro_f1']:.4f} "
          f"category_accuracy={d['category_accuracy']:.4f} routing precision="
          f"{d['routing']['precision']:.4f} coverage={d['routing']['coverage']:.4f} "
          f"(threshold {clf.threshold:.3f}); {report['speed_int8_onnx']['mean_ms']:.2f} ms/message",
          file=sys.stderr)
    return report


if __name__ == "__main__":
    main()
