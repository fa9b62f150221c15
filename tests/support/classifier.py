"""A stand-in for the intent classifier: one label at a fixed probability, and a record of every text
it was shown (the triage tests read which texts reached the model)."""
from __future__ import annotations

import numpy as np

from nlp.taxonomy import LABELS


class FakeClassifier:
    """Answers one label with a fixed probability and records what it was shown."""

    def __init__(self, label: str, p: float, threshold: float = 0.7):
        self.labels = list(LABELS)
        self.temperature = 1.0
        self.threshold = threshold
        self.seen: list[str] = []
        rest = (1.0 - p) / (len(self.labels) - 1)
        probs = np.full(len(self.labels), rest)
        probs[self.labels.index(label)] = p
        self._logits = np.log(probs)

    def logits(self, texts):
        self.seen.extend(texts)
        return np.tile(self._logits, (len(texts), 1))
