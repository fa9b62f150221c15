"""Long-text triage benchmark: scope F1 (cross-validated, from the committed artifact's training
report), non-complaint routing, described-PII recall and must-keep, reply-stripper comparison,
and long-text throughput (emails/s, one process, scope model loaded). Same code as
``python -m training.longtext_eval``; flat numeric keys for ``bench/results.json``."""
from __future__ import annotations


def run() -> dict:
    from training.longtext_eval import evaluate

    return {k: v for k, v in evaluate(train_scope=False).items() if isinstance(v, (int, float))}
