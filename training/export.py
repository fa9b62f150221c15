"""Export the fine-tuned classifier to int8 ONNX + tokenizer + calibration (``python -m training.export``).

Steps: rebuild the torch model from ``.cache/intent-model`` (written by ``training.train``), export
encoder + mean pooling + head as one ONNX graph (dynamic batch and sequence axes), quantise it
with ``quantize_dynamic(per_channel=True)`` to int8, and check the int8 dev accuracy against the
fp32 torch model: if quantisation costs more than 0.5 point, the head is re-quantised left in
fp32. If ``training.train`` also fitted the TF-IDF member, its weight in the ensemble is chosen on the
dev split (0 drops it). Then fit the softmax temperature on the dev scores of what is served
(int8 graph, plus the TF-IDF member if kept) and choose the abstention threshold there, with a
margin found by a two-fold check (weight, temperature and threshold chosen on one half of the dev
split, measured on the other; both folds are recorded). Only int8 weights are committed (``nlp/artifacts/`` must
stay under 30 MB); the fp32 graph stays in ``.cache/``.
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np

from nlp.classifier import (CALIBRATION_FILE, LABELS_FILE, MAX_LENGTH, MODEL_FILE, TFIDF_FILE,
                            TOKENIZER_FILE, IntentClassifier, TfidfMember, log_softmax, softmax)
from training.evaluate import ROUTING_TARGET, choose_threshold, dev_halves, fit_temperature, routing_at
from nlp.taxonomy import label_to_category
from training.checkpoint import load_trained
from training.train import ARTIFACTS, DEFAULT_OUT, load_split, read_labels

MAX_ARTIFACT_BYTES = 30 * 1024 * 1024
MAX_QUANT_LOSS = 0.005


def export_onnx(model, path: Path) -> None:
    import torch

    ids = torch.tensor([[101, 7592, 2026, 4003, 102, 0], [101, 2054, 2003, 1996, 3446, 102]])
    mask = (ids != 0).long()
    kwargs = dict(input_names=["input_ids", "attention_mask"], output_names=["logits"],
                  dynamic_axes={"input_ids": {0: "batch", 1: "seq"},
                                "attention_mask": {0: "batch", 1: "seq"},
                                "logits": {0: "batch"}},
                  opset_version=17)
    try:
        torch.onnx.export(model, (ids, mask), str(path), dynamo=False, **kwargs)
    except TypeError:  # exporters without the dynamo switch
        torch.onnx.export(model, (ids, mask), str(path), **kwargs)


def head_nodes(path: Path) -> list[str]:
    """Names of the graph nodes that multiply by the classifier head's weight."""
    import onnx

    graph = onnx.load(str(path)).graph
    inits = {i.name for i in graph.initializer}
    nodes = [n for n in graph.node if n.op_type in ("MatMul", "Gemm")]
    head = [n.name for n in nodes if any("head" in i for i in n.input if i in inits)]
    return head or [nodes[-1].name]


def quantise(fp32: Path, int8: Path, exclude: list[str] | None = None) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(fp32), str(int8), per_channel=True, weight_type=QuantType.QInt8,
                     nodes_to_exclude=exclude or [])


def dev_logits(model_dir: Path, texts: list[str]) -> np.ndarray:
    """The transformer's logits from the ONNX graph in ``model_dir`` (no ensemble, no temperature)."""
    return IntentClassifier.load(model_dir, calibrated=False).nn_logits(texts)


TFIDF_WEIGHTS = [round(0.05 * i, 2) for i in range(13)]  # 0 .. 0.6


def choose_tfidf_weight(nn: np.ndarray, tfidf_log_proba: np.ndarray, y: np.ndarray) -> float:
    """Ensemble weight with the best dev accuracy (ties go to the smaller weight)."""
    lp = log_softmax(nn)
    accs = [float((((1 - w) * lp + w * tfidf_log_proba).argmax(1) == y).mean()) for w in TFIDF_WEIGHTS]
    return TFIDF_WEIGHTS[int(np.argmax(accs))]


# Threshold margin: the fitting rows must reach a stricter precision than the 99% target.
MARGINS = [round(0.0005 * i, 4) for i in range(21)]  # 0 .. 1 point


def _fit(nn: np.ndarray, tf_lp: np.ndarray | None, y: np.ndarray, cats: np.ndarray,
         margin: float = 0.0) -> dict:
    """Blend weight, temperature and threshold (for precision >= 99% + margin) fitted on these rows."""
    weight = choose_tfidf_weight(nn, tf_lp, y) if tf_lp is not None else 0.0
    scores = _blend(nn, tf_lp, weight)
    temperature = fit_temperature(scores, y)
    probs = softmax(scores, temperature)
    threshold = choose_threshold(probs.max(1), cats[probs.argmax(1)] == cats[y],
                                 min(1.0, ROUTING_TARGET + margin))
    return {"tfidf_weight": weight, "temperature": temperature, "threshold": threshold}


def _blend(nn: np.ndarray, tf_lp: np.ndarray | None, weight: float) -> np.ndarray:
    if tf_lp is None or weight == 0:
        return nn
    return ((1 - weight) * log_softmax(nn) + weight * tf_lp).astype(np.float32)


def _measure(nn: np.ndarray, tf_lp: np.ndarray | None, y: np.ndarray, cats: np.ndarray,
             fit: dict) -> dict:
    probs = softmax(_blend(nn, tf_lp, fit["tfidf_weight"]), fit["temperature"])
    pred = probs.argmax(1)
    cat_correct = cats[pred] == cats[y]
    return {"n": len(y), "accuracy": float((pred == y).mean()),
            "minilm_accuracy": float((nn.argmax(1) == y).mean()),
            "category_accuracy": float(cat_correct.mean()),
            "routing": routing_at(probs.max(1), cat_correct, fit["threshold"])}


def two_fold(nn: np.ndarray, tf_lp: np.ndarray | None, y: np.ndarray, cats: np.ndarray) -> dict:
    """Honest estimate: choose blend weight, temperature and threshold on one half of the dev
    split, measure on the other, both ways. The threshold margin is the smallest one (the
    fitting half must reach 99% + margin routing precision) whose average cross-fold routing
    precision is >= 99%; the served threshold applies the same margin on the whole dev split.
    """
    half = dev_halves(len(y))
    folds = [(half, ~half), (~half, half)]
    sub = (lambda a: None) if tf_lp is None else (lambda a: tf_lp[a])
    fits_by_margin: dict[float, list[dict]] = {}

    def fits_for(margin: float) -> list[dict]:
        if margin not in fits_by_margin:
            fits_by_margin[margin] = [_fit(nn[a], sub(a), y[a], cats, margin) for a, _ in folds]
        return fits_by_margin[margin]

    def measured(margin: float) -> list[dict]:
        return [_measure(nn[b], sub(b), y[b], cats, f) for f, (_, b) in zip(fits_for(margin), folds)]

    margin = MARGINS[-1]
    for m in MARGINS:
        if np.mean([r["routing"]["precision"] for r in measured(m)]) >= ROUTING_TARGET:
            margin = m
            break
    results = measured(margin)
    no_margin = measured(0.0)
    fits = fits_for(margin)

    def avg(key: str, rs: list[dict]) -> float:
        return float(np.mean([r[key] if "." not in key else r["routing"][key.split(".")[1]]
                              for r in rs]))

    return {
        "method": "dev split cut in two fixed halves (training.evaluate.dev_halves); fit on one, measure on the other",
        "threshold_margin": margin,
        "folds": [{"fitted": f, "measured": r, "routing_without_margin": n["routing"]}
                  for f, r, n in zip(fits, results, no_margin)],
        "average": {"accuracy": avg("accuracy", results),
                    "minilm_accuracy": avg("minilm_accuracy", results),
                    "category_accuracy": avg("category_accuracy", results),
                    "routing_precision": avg("routing.precision", results),
                    "routing_coverage": avg("routing.coverage", results),
                    "routing_precision_without_margin": avg("routing.precision", no_margin),
                    "routing_coverage_without_margin": avg("routing.coverage", no_margin)},
    }


def calibrate(out: Path, model_dir: Path, quantisation: dict, torch_acc: float | None = None,
              fp32_acc: float | None = None) -> dict:
    """Ensemble weight, temperature and threshold, all from the served int8 graph's dev scores."""
    labels = json.loads((out / LABELS_FILE).read_text(encoding="utf-8"))
    _, dev = load_split()
    texts = [t for t, _ in dev]
    index = {lab: i for i, lab in enumerate(labels)}
    y = np.array([index[lab] for _, lab in dev])
    nn = dev_logits(out, texts)
    int8_acc = float((nn.argmax(1) == y).mean())

    weight, ensemble_acc = 0.0, int8_acc
    scores = nn
    tf_lp = None
    tfidf_src = model_dir / TFIDF_FILE
    if tfidf_src.exists():
        member = TfidfMember.from_file(tfidf_src)
        tf_lp = member.log_proba(texts)
        ref = model_dir / "tfidf_dev_log_proba.npy"
        if ref.exists():
            gap = float(np.abs(np.load(ref) - tf_lp).max())
            if gap > 1e-3:
                raise SystemExit(f"NumPy TF-IDF differs from scikit-learn by {gap:.2e} on dev")
        weight = choose_tfidf_weight(nn, tf_lp, y)
        if weight > 0:
            shutil.copy(tfidf_src, out / TFIDF_FILE)
            scores = ((1 - weight) * log_softmax(nn) + weight * tf_lp).astype(np.float32)
            ensemble_acc = float((scores.argmax(1) == y).mean())
    if weight == 0 and (out / TFIDF_FILE).exists():
        (out / TFIDF_FILE).unlink()

    temperature = fit_temperature(scores, y)
    probs = softmax(scores, temperature)
    pred = probs.argmax(1)
    cats = np.array([label_to_category(lab) for lab in labels])
    cat_correct = cats[pred] == cats[y]
    folds = two_fold(nn, tf_lp, y, cats)
    base_threshold = choose_threshold(probs.max(1), cat_correct, ROUTING_TARGET)
    threshold = choose_threshold(probs.max(1), cat_correct,
                                 min(1.0, ROUTING_TARGET + folds["threshold_margin"]))
    routing = routing_at(probs.max(1), cat_correct, threshold)
    calibration = {
        "temperature": temperature,
        "threshold": threshold,
        "threshold_applies_to": "calibrated softmax probability of the top label",
        "threshold_without_margin": base_threshold,
        "threshold_margin": folds["threshold_margin"],
        "threshold_margin_means": "threshold chosen for routing precision >= target + margin on the dev split",
        "tfidf_weight": weight,
        "routing_target_precision": ROUTING_TARGET,
        "fitted_on": "dev split (nlp/artifacts/split.json), scores of the served int8 model",
        "dev_routing": routing,
        "dev_accuracy": {"torch_fp32": torch_acc, "onnx_fp32": fp32_acc, "onnx_int8": int8_acc,
                         "served_ensemble": ensemble_acc},
        "two_fold": folds,
        "quantisation": quantisation,
        "max_length": MAX_LENGTH,
    }
    (out / CALIBRATION_FILE).write_text(json.dumps(calibration, indent=2) + "\n", encoding="utf-8")
    return calibration


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description="Export the intent classifier to int8 ONNX.")
    p.add_argument("--model", type=Path, default=DEFAULT_OUT)
    p.add_argument("--artifacts", type=Path, default=ARTIFACTS)
    p.add_argument("--calibrate-only", action="store_true",
                   help="keep the exported graph; redo ensemble weight, temperature, threshold")
    args = p.parse_args(argv)
    out = args.artifacts

    if args.calibrate_only:
        previous = json.loads((out / CALIBRATION_FILE).read_text(encoding="utf-8"))
        calibration = calibrate(out, args.model, previous["quantisation"],
                                previous["dev_accuracy"].get("torch_fp32"),
                                previous["dev_accuracy"].get("onnx_fp32"))
        return _report(out, calibration)

    import torch

    torch.set_num_threads(2)
    labels = read_labels()
    model, tok = load_trained(args.model, len(labels))
    out.mkdir(parents=True, exist_ok=True)
    fp32 = args.model / "model.fp32.onnx"
    export_onnx(model, fp32)

    # Tokenizer in the `tokenizers` format, truncating like training did.
    tok_src = args.model / "encoder" / "tokenizer.json"
    spec = json.loads(tok_src.read_text(encoding="utf-8"))
    spec["truncation"] = {"direction": "Right", "max_length": MAX_LENGTH, "strategy": "LongestFirst",
                          "stride": 0}
    spec["padding"] = None
    (out / TOKENIZER_FILE).write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    (out / LABELS_FILE).write_text(json.dumps(labels, indent=1) + "\n", encoding="utf-8")

    _, dev = load_split()
    texts = [t for t, _ in dev]
    index = {lab: i for i, lab in enumerate(labels)}
    y = np.array([index[lab] for _, lab in dev])
    torch_logits = np.load(args.model / "dev_logits_torch.npy")
    torch_acc = float((torch_logits.argmax(1) == y).mean())

    # fp32 ONNX sanity check: same predictions as torch.
    fp32_dir = args.model / "onnx-fp32"
    fp32_dir.mkdir(exist_ok=True)
    shutil.copy(fp32, fp32_dir / MODEL_FILE)
    for name in (TOKENIZER_FILE, LABELS_FILE):
        shutil.copy(out / name, fp32_dir / name)
    fp32_acc = float((dev_logits(fp32_dir, texts).argmax(1) == y).mean())

    quantise(fp32, out / MODEL_FILE)
    int8_acc = float((dev_logits(out, texts).argmax(1) == y).mean())
    excluded: list[str] = []
    if torch_acc - int8_acc > MAX_QUANT_LOSS:
        excluded = head_nodes(fp32)
        quantise(fp32, out / MODEL_FILE, exclude=excluded)
    quantisation = {"method": "onnxruntime quantize_dynamic, QInt8, per_channel",
                    "nodes_left_fp32": excluded}
    calibration = calibrate(out, args.model, quantisation, torch_acc, fp32_acc)
    summary = args.model / "train_summary.json"
    if summary.exists():
        info = json.loads(summary.read_text(encoding="utf-8"))
        info.pop("labels", None)
        (out / "train_summary.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return _report(out, calibration)


def _report(out: Path, calibration: dict) -> dict:
    size = sum(f.stat().st_size for f in out.iterdir() if f.is_file())
    print(json.dumps({**calibration["dev_accuracy"], "tfidf_weight": calibration["tfidf_weight"],
                      "temperature": round(calibration["temperature"], 4),
                      "threshold": round(calibration["threshold"], 4),
                      "routing": calibration["dev_routing"],
                      "threshold_margin": calibration.get("threshold_margin"),
                      "two_fold_average": calibration.get("two_fold", {}).get("average"),
                      "artifacts_mb": round(size / 2**20, 2)}, indent=1))
    if size > MAX_ARTIFACT_BYTES:
        raise SystemExit(f"artifacts are {size / 2**20:.1f} MB, over the 30 MB budget")
    return calibration


if __name__ == "__main__":
    main()
