"""Drift of a classifier's input and output: population stability index against its training reference.

Why PSI: it compares two distributions bin by bin with one number that has settled readings
(below 0.1 stable, 0.1-0.25 moving, above 0.25 shifted), works on any binned quantity, and needs
only the reference's bin shares, which are small enough to ship with the model artifacts.

Two distributions are watched per capability: the classifier's confidence (what it *thinks* of
the traffic: a new kind of message shows as lower confidence first) and the label mix (what it
*says* the traffic is). The reference is computed from the model's own evaluation on its dev split
(``eval.json``: the confusion matrix's predicted categories, the routing coverage at the calibrated
threshold) by :func:`reference_from_eval` and stored beside it as ``drift_reference.json``.
"""
from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable

EPS = 1e-4  # a bin empty on one side must not make the index infinite
ARTIFACTS = Path(__file__).resolve().parents[2] / "nlp" / "artifacts"
REFERENCE_FILE = "drift_reference.json"


def psi(expected: dict[str, float], actual: dict[str, float]) -> float:
    """Population stability index of ``actual`` shares against ``expected`` shares (same bins)."""
    bins = set(expected) | set(actual)
    total = 0.0
    for b in bins:
        e, a = max(expected.get(b, 0.0), EPS), max(actual.get(b, 0.0), EPS)
        total += (a - e) * math.log(a / e)
    return total


def shares(values: Iterable[str]) -> dict[str, float]:
    counts = Counter(values)
    n = sum(counts.values())
    return {k: v / n for k, v in counts.items()} if n else {}


@dataclass(frozen=True)
class DriftReference:
    """Bin shares of the training reference: confidence bins (by edges) and the label mix."""

    model: str
    confidence_edges: tuple[float, ...]  # ascending inner edges; bin i is [edge[i-1], edge[i])
    confidence: dict[str, float]
    labels: dict[str, float]

    def confidence_bin(self, value: float) -> str:
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"confidence {value!r} is not in [0, 1]")
        for i, edge in enumerate(self.confidence_edges):
            if value < edge:
                return f"b{i}"
        return f"b{len(self.confidence_edges)}"

    def psi_confidence(self, confidences: Iterable[float]) -> float:
        return psi(self.confidence, shares(self.confidence_bin(c) for c in confidences))

    def psi_labels(self, labels: Iterable[str]) -> float:
        return psi(self.labels, shares(labels))

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def load(cls, path: str | Path | None = None) -> "DriftReference":
        path = Path(path) if path else ARTIFACTS / REFERENCE_FILE
        data = json.loads(Path(path).read_text())
        return cls(data["model"], tuple(data["confidence_edges"]), data["confidence"], data["labels"])


def reference_from_eval(eval_path: str | Path | None = None) -> DriftReference:
    """The reference from the model's dev-split evaluation: predicted category mix (confusion matrix
    columns) and the share of messages at or above the calibrated routing threshold."""
    data = json.loads(Path(eval_path or ARTIFACTS / "eval.json").read_text())
    confusion = data["dev_category_confusion"]
    columns = [sum(row[j] for row in confusion["matrix"]) for j in range(len(confusion["categories"]))]
    total = sum(columns)
    labels = {c: n / total for c, n in zip(confusion["categories"], columns) if n}
    routing = data["dev_int8_onnx"]["routing"]
    confident = routing["coverage"]
    return DriftReference(model=str(data.get("model", "nlp/artifacts")), confidence_edges=(routing["threshold"],),
                          confidence={"b0": 1 - confident, "b1": confident}, labels=labels)


if __name__ == "__main__":  # python -m chalicelib.governance.drift: (re)write the reference beside the model
    ref = reference_from_eval()
    (ARTIFACTS / REFERENCE_FILE).write_text(ref.to_json())
    print(f"wrote {ARTIFACTS / REFERENCE_FILE}")
