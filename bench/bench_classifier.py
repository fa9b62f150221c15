"""Intent classifier: accuracy and speed of the served ONNX int8 model vs the fp32 torch model.

Both are measured in this run on the same dev split (nlp/artifacts/split.json), one thread each.
The torch baseline needs the training venv and the checkpoint the artifacts were exported from
(`make train` leaves both in .venv-train/); without them the torch columns say why they are absent
rather than quoting an old number.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRAIN_PY = ROOT / ".venv-train" / "bin" / "python"

_TORCH_CODE = """
import json, sys
import numpy as np
from pathlib import Path
from training.train import load_split
from nlp.classifier import IntentClassifier
from training.evaluate import torch_comparison
clf = IntentClassifier.load(Path("nlp/artifacts"))
_, dev = load_split()
texts = [t for t, _ in dev]
index = {l: i for i, l in enumerate(clf.labels)}
y = np.array([index[l] for _, l in dev])
out = torch_comparison(texts, y, clf.labels, clf.temperature, clf.threshold, Path(sys.argv[1]))
print("@@" + json.dumps(out))
"""


def _checkpoint() -> Path | None:
    """The training run whose summary matches the shipped artifacts (the model actually served)."""
    shipped = ROOT / "nlp" / "artifacts" / "train_summary.json"
    runs = ROOT / ".venv-train" / "runs"
    if not shipped.exists() or not runs.is_dir():
        return None
    want = json.loads(shipped.read_text()).get("history")
    for summary in sorted(runs.glob("*/train_summary.json")):
        if json.loads(summary.read_text()).get("history") == want and (summary.parent / "head.pt").exists():
            return summary.parent
    return None


def run() -> dict:
    import numpy as np

    from nlp.classifier import IntentClassifier
    from training.evaluate import point_metrics, speed
    from training.train import load_split

    clf = IntentClassifier.load()
    _, dev = load_split()
    texts = [t for t, _ in dev]
    index = {lab: i for i, lab in enumerate(clf.labels)}
    y = np.array([index[lab] for _, lab in dev])
    served = point_metrics(clf.logits(texts), y, clf.labels)
    minilm = point_metrics(clf.nn_logits(texts), y, clf.labels)
    onnx_speed = speed(clf, texts[:300])
    out = {
        "dev_n": len(texts),
        "served_int8_plus_tfidf": {"accuracy": served["accuracy"], "macro_f1": served["macro_f1"]},
        "onnx_int8_minilm": {"accuracy": minilm["accuracy"], "mean_ms": round(onnx_speed["mean_ms"], 3),
                             "p95_ms": round(onnx_speed["p95_ms"], 3)},
        "accuracy_target_heldout": 0.937,
    }
    ckpt = _checkpoint()
    if not TRAIN_PY.exists() or ckpt is None:
        out["torch_fp32"] = {"skipped": "no .venv-train or no checkpoint matching the shipped artifacts (run make train)"}
        return out
    proc = subprocess.run([str(TRAIN_PY), "-c", _TORCH_CODE, str(ckpt)], cwd=ROOT, capture_output=True, text=True,
                          timeout=1800)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("@@")), None)
    torch_res = json.loads(line[2:]) if line else None
    if not torch_res:
        out["torch_fp32"] = {"skipped": f"torch comparison failed: {proc.stderr[-300:]}"}
        return out
    t_ms = torch_res["speed_mean_ms_one_thread"]
    out["torch_fp32"] = {"accuracy": torch_res["metrics"]["accuracy"], "mean_ms": round(t_ms, 3),
                         "checkpoint": str(ckpt.relative_to(ROOT))}
    out["onnx_int8_speedup_vs_torch"] = round(t_ms / max(onnx_speed["mean_ms"], 1e-9), 2)
    out["accuracy_gap_points"] = round(100 * (torch_res["metrics"]["accuracy"] - minilm["accuracy"]), 2)
    out["equal_accuracy_within_0_5_point"] = abs(out["accuracy_gap_points"]) <= 0.5
    return out
