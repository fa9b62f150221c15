"""Triage pipeline benchmark: local-tier latency, email throughput, memory, and tiered cost.

Why these numbers: the local tier must answer a chat message in ≤ 5 ms on one core and the email
pipeline must sustain ≥ 30 emails/s, inside a Lambda of ≤ 300 MB RSS; and the Comprehend tier
must cost ≤ $0.50 per 1,000 emails against the naive $7.50 (all five text APIs on every
1,500-character email: 5 × 15 units × $0.0001). Cost is counted from billed units against a
stubbed Comprehend (documented response shapes, no network), with the real escalation rules and
an unlimited budget so the figure shows what tiering alone saves.

Texts: chat latency and the chat escalation rate use the BANKING77 dev split recorded in
``nlp/artifacts/split.json`` (held out from classifier training); emails are every message in
``../shared/data/emails`` (the set is repeated until the timing is stable). The category accuracy
of the whole pipeline (classifier + rules) on the same dev split is reported too.
"""
from __future__ import annotations

import csv
import json
import resource
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
EMAILS = SHARED / "emails"
BANKING77 = SHARED / "banking77" / "train.csv"
SPLIT = ROOT / "nlp" / "artifacts" / "split.json"
COMPREHEND_SAMPLES = SHARED / "comprehend"
TODAY = date(2026, 11, 20)
NAIVE_USD_PER_1000 = 5 * 15 * 0.0001 * 1000  # five APIs × 15 units (1,500 chars) × $0.0001


def _dev_rows() -> list[tuple[str, str]]:
    with BANKING77.open(encoding="utf-8", newline="") as fh:
        rows = [(r["text"], r["category"]) for r in csv.DictReader(fh)]
    try:
        idx = json.loads(SPLIT.read_text(encoding="utf-8"))["dev_indices"]
        return [rows[i] for i in idx if i < len(rows)]
    except (OSError, ValueError, KeyError):
        return rows[::10]


def _emails() -> list[tuple[str, bytes]]:
    from nlp.email_parse import iter_messages

    return list(iter_messages(EMAILS))


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


class _StubComprehend:
    """Answers with the documented response shapes; counts requests and characters."""

    def __init__(self) -> None:
        def load(name: str) -> dict:
            return json.loads((COMPREHEND_SAMPLES / name).read_text(encoding="utf-8"))["response"]

        self.sentiment = load("DetectSentiment__aws-cli.json")
        self.language = load("DetectDominantLanguage__aws-cli.json")
        self.requests: list[tuple[str, int]] = []

    def detect_sentiment(self, Text: str, LanguageCode: str) -> dict:
        self.requests.append(("DetectSentiment", len(Text)))
        return self.sentiment

    def detect_dominant_language(self, Text: str) -> dict:
        self.requests.append(("DetectDominantLanguage", len(Text)))
        return self.language


def _latency(texts: list[str]) -> dict:
    from nlp import triage

    stages: dict[str, list[float]] = {}
    for t in texts[:50]:  # warm-up: pipeline, classifier, lexicons
        triage.triage_text(t, today=TODAY)
    totals = []
    for t in texts:
        t0 = time.perf_counter()
        triage.triage_text(t, today=TODAY)
        totals.append((time.perf_counter() - t0) * 1000)
    # Stage breakdown on the same texts (where the milliseconds go).
    from nlp.entities import extract_entities
    from nlp.language import detect_language
    from nlp.redact import redact
    from nlp.sentiment import analyse_sentiment
    from nlp.urgency import score_urgency

    clf = triage._get_classifier()
    for t in texts[:300]:
        c0 = time.perf_counter()
        red = redact(t).text
        c1 = time.perf_counter()
        detect_language(red)
        c2 = time.perf_counter()
        ents = extract_entities(red, TODAY)
        c3 = time.perf_counter()
        if clf is not None:
            triage._classify(clf, red)
        c4 = time.perf_counter()
        analyse_sentiment(red)
        c5 = time.perf_counter()
        score_urgency(red, ents.amounts)
        c6 = time.perf_counter()
        for name, a, b in (("redact", c0, c1), ("language", c1, c2), ("entities", c2, c3), ("classifier", c3, c4),
                           ("sentiment", c4, c5), ("urgency", c5, c6)):
            stages.setdefault(name, []).append((b - a) * 1000)
    return {
        "chat_messages": len(totals),
        "chat_ms_p50": round(_pct(totals, 0.5), 3),
        "chat_ms_p99": round(_pct(totals, 0.99), 3),
        "chat_ms_mean": round(statistics.fmean(totals), 3),
        "chat_target_ms": 5.0,
        "chat_stage_ms_p50": {k: round(_pct(v, 0.5), 3) for k, v in stages.items()},
    }


def _email_rate(messages: list[tuple[str, bytes]], min_seconds: float = 3.0) -> dict:
    from nlp.triage import triage_email

    for name, raw in messages:  # warm-up
        triage_email(raw, id=name, today=TODAY)
    done, rounds = 0, 0
    t0 = time.perf_counter()
    while True:
        for name, raw in messages:
            triage_email(raw, id=name, today=TODAY)
            done += 1
        rounds += 1
        if time.perf_counter() - t0 >= min_seconds and rounds >= 3:
            break
    elapsed = time.perf_counter() - t0
    return {"emails_distinct": len(messages), "emails_rounds": rounds, "emails_per_s": round(done / elapsed, 1),
            "emails_target_per_s": 30.0}


def _cost(dev: list[tuple[str, str]], messages: list[tuple[str, bytes]]) -> dict:
    from chalicelib.governance.cost import CostMeter
    from nlp.comprehend import ComprehendBudget, ComprehendTier
    from nlp.triage import triage_email, triage_text

    def tier() -> tuple[ComprehendTier, _StubComprehend]:
        stub = _StubComprehend()
        return ComprehendTier(stub, meter=CostMeter(hourly_ceiling_usd=1e9),
                              budget=ComprehendBudget(units_per_message=10, units_per_hour=10**9)), stub

    out: dict = {"naive_usd_per_1000_emails": NAIVE_USD_PER_1000}
    email_tier, email_stub = tier()
    email_results = [triage_email(raw, id=name, today=TODAY, comprehend=email_tier) for name, raw in messages]
    chat_tier, chat_stub = tier()
    chat_results = [triage_text(t, today=TODAY, comprehend=chat_tier) for t, _ in dev]
    for label, results, stub in (("emails", email_results, email_stub), ("chat_dev", chat_results, chat_stub)):
        n = len(results)
        escalated = sum(1 for r in results if r.tier_used == "comprehend")
        usd = sum(r.cost_usd for r in results)
        reasons: dict[str, int] = {}
        for r in results:
            for reason in r.escalation_reasons:
                reasons[reason] = reasons.get(reason, 0) + 1
        out[label] = {
            "messages": n,
            "escalated_fraction": round(escalated / n, 4) if n else 0.0,
            "requests": len(stub.requests),
            "billed_units": sum(_units(c) for _, c in stub.requests),
            "usd_per_1000": round(usd / n * 1000, 4) if n else 0.0,
            "escalation_reasons": reasons,
        }
    total_n = len(email_results) + len(chat_results)
    total_usd = sum(r.cost_usd for r in email_results) + sum(r.cost_usd for r in chat_results)
    out["combined_usd_per_1000"] = round(total_usd / total_n * 1000, 4) if total_n else 0.0
    out["target_usd_per_1000"] = 0.50
    return out


def _units(chars: int) -> int:
    from nlp.comprehend import billed_units

    return billed_units(chars)


def _category_accuracy(dev: list[tuple[str, str]]) -> dict:
    from nlp.taxonomy import label_to_category
    from nlp.triage import triage_text

    right = routed = routed_right = routed_cat_right = 0
    for text, gold in dev:
        r = triage_text(text, today=TODAY)
        gold_cat = label_to_category(gold)
        right += r.category == gold_cat
        if r.intent != "unsure":
            routed += 1
            routed_right += r.intent == gold
            routed_cat_right += label_to_category(r.intent) == gold_cat
    n = len(dev)
    return {"dev_category_accuracy": round(right / n, 4) if n else 0.0,
            "dev_routed_coverage": round(routed / n, 4) if n else 0.0,
            "dev_routed_intent_precision": round(routed_right / routed, 4) if routed else 0.0,
            "dev_routed_category_precision": round(routed_cat_right / routed, 4) if routed else 0.0}


def run() -> dict:
    dev = _dev_rows()
    messages = _emails()
    result: dict = {"name": "triage", "threads": 1}
    result.update(_latency([t for t, _ in dev]))
    result.update(_email_rate(messages))
    result["rss_mb_with_model"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    result["rss_target_mb"] = 300
    result.update(_category_accuracy(dev))
    result["cost"] = _cost(dev, messages)
    return result


if __name__ == "__main__":
    json.dump(run(), sys.stdout, indent=2)
    print()
