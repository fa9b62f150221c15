"""Long-text evaluation (``python -m training.longtext_eval``; part of ``make evaluate``; the bench
module ``bench/bench_longtext.py`` reports the same numbers into ``bench/results.json``).

- scope: nested cross-validated precision/recall/F1 of the scope model on the CFPB narratives
  (``training.scope``, seeded split, threshold chosen inside each fold), plus the seeded 20% hold-out;
- non-complaints: share of ``tests/fixtures/noncomplaints.json`` (our own spam, newsletters,
  auto-replies, bounces, "file attached", marketing, in several languages) and of the sample emails
  that are not complaints, routed as ``not_a_complaint``;
- redaction: CVV/SSN recall and must-keep on the red-team fixture (``training.pii_eval``);
- reply stripping: hand-written vs mail-parser-reply (``training.strip_compare``);
- throughput of the long-text path on one process, model loaded.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NONCOMPLAINTS = ROOT / "tests" / "fixtures" / "noncomplaints.json"
EMAILS = ROOT.parent / "shared" / "data" / "emails"


def noncomplaint_routing() -> dict:
    from nlp.longtext import SCOPE_NONE
    from nlp.triage import triage_text

    cases = json.loads(NONCOMPLAINTS.read_text(encoding="utf-8"))["cases"]
    routed = [c["id"] for c in cases if triage_text(c["text"], channel="email").scope == SCOPE_NONE]
    return {"noncomplaint_cases": len(cases), "noncomplaint_routed_pct": round(100.0 * len(routed) / len(cases), 1),
            "noncomplaint_missed": [c["id"] for c in cases if c["id"] not in routed]}


def sample_emails() -> dict:
    from nlp.email_parse import iter_messages
    from nlp.triage import triage_email

    msgs = list(iter_messages(EMAILS))
    results = [triage_email(raw, id=name) for name, raw in msgs]
    t0 = time.perf_counter()
    rounds = 0
    while time.perf_counter() - t0 < 3.0:
        for name, raw in msgs:
            triage_email(raw, id=name)
        rounds += 1
    per_s = rounds * len(msgs) / (time.perf_counter() - t0)
    return {"sample_emails": len(msgs),
            "sample_not_a_complaint": sum(r.scope == "not_a_complaint" for r in results),
            "sample_routed_to_dispute_queues": sum(r.category != "out_of_scope" for r in results),
            "longtext_emails_per_s": round(per_s, 1)}


def letters_per_s(n: int = 120) -> dict[str, float]:
    """Long CFPB letters (median ~1,000 characters) through triage_text on the document path, one
    process, models loaded: letters per wall-clock second and per CPU second of this process (the
    second stays meaningful on a shared, loaded machine; on a quiet one the two agree)."""
    import csv

    from nlp.triage import triage_text

    path = ROOT.parent / "shared" / "data" / "cfpb" / "cfpb_in_scope_dev.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        texts = [r["Consumer complaint narrative"] for r in csv.DictReader(fh)][:n]
    for t in texts[:5]:
        triage_text(t, channel="email")
    t0, c0 = time.perf_counter(), time.process_time()
    for t in texts:
        triage_text(t, channel="email")
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"longtext_letters_per_s": round(len(texts) / wall, 1),
            "longtext_letters_per_cpu_s": round(len(texts) / max(cpu, 1e-9), 1)}


def evaluate(train_scope: bool = True) -> dict:
    from training import pii_eval, strip_compare

    out: dict = {}
    if train_scope:
        from training.scope import main as scope_main

        rep = scope_main(["--no-write"])
        cv, ho = rep["cv_nested"], rep["holdout"]
        inbox = f"at_{rep['inbox_share']:g}_in_scope"
        out.update({"scope_f1_cv": cv["f1"], "scope_precision_cv": cv["precision"], "scope_recall_cv": cv["recall"],
                    "scope_f1_cv_inbox": cv[inbox]["f1"], "scope_precision_cv_inbox": cv[inbox]["precision"],
                    "scope_f1_cv_even": cv["at_0.5_in_scope"]["f1"], "scope_inbox_share": rep["inbox_share"],
                    "scope_f1_holdout": ho["f1"], "scope_f1_holdout_inbox": ho[inbox]["f1"],
                    "scope_precision_holdout": ho["precision"], "scope_recall_holdout": ho["recall"],
                    "scope_banking77_dev_in_scope": rep["aux"]["banking77_dev_in_scope"]})
    else:
        meta = json.loads((ROOT / "nlp" / "artifacts" / "scope.json").read_text())
        out.update({"scope_f1_cv": meta["cv_f1"], "scope_precision_cv": meta["cv_precision"],
                    "scope_recall_cv": meta["cv_recall"], "scope_f1_cv_inbox": meta.get("cv_f1_inbox"),
                    "scope_precision_cv_inbox": meta.get("cv_precision_inbox"), "scope_f1_cv_even": meta.get("cv_f1_even"),
                    "scope_inbox_share": meta.get("inbox_share"), "scope_f1_holdout": meta.get("holdout_f1"),
                    "scope_f1_holdout_inbox": meta.get("holdout_f1_inbox"),
                    "scope_banking77_dev_in_scope": meta.get("banking77_dev_in_scope")})
    out.update(noncomplaint_routing())
    pii = pii_eval.evaluate()
    out.update({k: pii[k] for k in ("cvv_recall", "ssn_recall", "card_cvv_recall", "hyphen_name_recall", "idempotent_pct",
                                    "must_keep_pct")})
    strip = strip_compare.compare()
    out.update({k: v for k, v in strip.items() if not k.startswith("strip_failed")})
    out.update(sample_emails())
    from training.outside_eval import PROBE
    from training.outside_eval import evaluate as outside

    out.update({k: v for k, v in outside().items() if not isinstance(v, list)})
    out.update({k: v for k, v in outside(PROBE, "probe").items() if not isinstance(v, list)})
    out.update(letters_per_s())
    return out


if __name__ == "__main__":
    print(json.dumps(evaluate(train_scope="--fast" not in sys.argv[1:]), indent=2))
