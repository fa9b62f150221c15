"""EMF metrics: valid documents with the right dimensions; silent locally by default."""
from __future__ import annotations

import json

import pytest

from chalicelib.governance.decision_log import DecisionRecord
from chalicelib.governance.metrics import GovernanceMetrics, confidence_bucket


def emitted(**kw):
    lines = []
    return GovernanceMetrics(sink=lines.append, enabled=True, clock=lambda: 1_700_000_000.0, **kw), lines


def test_local_default_prints_nothing(monkeypatch, capsys):
    """Given no Lambda environment and no DA_METRICS / When a metric is put / Then nothing is written."""
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    monkeypatch.delenv("DA_METRICS", raising=False)
    assert GovernanceMetrics().put("Decisions", 1) is None
    assert capsys.readouterr().out == ""


def test_lambda_default_emits_and_off_silences(monkeypatch, capsys):
    """Given AWS_LAMBDA_FUNCTION_NAME / Then EMF goes to stdout; DA_METRICS=off / Then silent even in Lambda."""
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "lex_hook")
    monkeypatch.delenv("DA_METRICS", raising=False)
    GovernanceMetrics().put("Decisions", 1)
    assert '"Decisions":1' in capsys.readouterr().out
    monkeypatch.setenv("DA_METRICS", "off")
    GovernanceMetrics().put("Decisions", 1)
    assert capsys.readouterr().out == ""


def test_emf_document_shape():
    """Given one metric with a dimension / Then a document CloudWatch accepts: namespace, dimension names, value."""
    m, lines = emitted()
    m.put("Escalations", 1, Reason="legal_threat")
    doc = json.loads(lines[0])
    directive = doc["_aws"]["CloudWatchMetrics"][0]
    assert doc["_aws"]["Timestamp"] == 1_700_000_000_000
    assert directive["Namespace"] == "DisputeAssistant"
    assert directive["Dimensions"] == [["Reason", "service"]]
    assert directive["Metrics"] == [{"Name": "Escalations", "Unit": "Count"}]
    assert (doc["Reason"], doc["service"], doc["Escalations"]) == ("legal_threat", "dispute-assistant", 1)


def test_decision_metrics_cover_containment_escalation_tier_cost_and_confidence():
    """Given an escalated decision from the local tier / Then Decisions, Contained=0, one Escalations per reason,
    TierUsage, DecisionCostUSD and a confidence bucket are emitted."""
    m, lines = emitted()
    d = DecisionRecord(actor="assistant", action="route_message", outcome="escalate",
                 reasons=["low_classifier_confidence", "unsupported_language"], tier="local", cost_usd=0.0003,
                 inputs={"action": "route_message", "classifier_confidence": 0.42})
    m.decision(d)
    docs = [json.loads(line) for line in lines]
    names = [(k, doc[k]) for doc in docs for k in ("Decisions", "Contained", "Escalations", "TierUsage", "DecisionCostUSD", "ClassifierConfidence") if k in doc]
    assert names == [("Decisions", 1), ("Contained", 0), ("Escalations", 1), ("Escalations", 1), ("TierUsage", 1),
                     ("DecisionCostUSD", 0.0003), ("ClassifierConfidence", 1)]
    assert [doc.get("Reason") for doc in docs if "Escalations" in doc] == ["low_classifier_confidence", "unsupported_language"]
    assert docs[-1]["Bucket"] == "0.4-0.5"


def test_shadow_decision_is_not_contained():
    """Given a shadow decision the policy would allow / Then it does not count as contained."""
    m, lines = emitted()
    m.decision(DecisionRecord(actor="assistant", action="file_dispute", outcome="escalate", shadow=True, reasons=["shadow_mode"]))
    assert json.loads(lines[1])["Contained"] == 0


def test_time_to_human_and_escalation_review():
    """Given a handoff after 42 s and an agent's review / Then the latency and the review verdict are emitted."""
    m, lines = emitted()
    m.time_to_human(42.0, channel="chat")
    m.escalation_reviewed("amount_over_limit", necessary=False)
    a, b = (json.loads(x) for x in lines)
    assert (a["TimeToHumanEscalationSeconds"], a["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"]) == (42.0, "Seconds")
    assert (b["Reason"], b["Verdict"]) == ("amount_over_limit", "unnecessary")


@pytest.mark.parametrize("c, bucket", [(0.0, "0.0-0.1"), (0.05, "0.0-0.1"), (0.7, "0.7-0.8"), (0.999, "0.9-1.0"), (1.0, "0.9-1.0")])
def test_confidence_buckets(c, bucket):
    """Given confidences at edges / Then ten buckets with 1.0 in the top one."""
    assert confidence_bucket(c) == bucket


def test_decision_log_emits_once_per_new_decision(tmp_path):
    """Given a log with metrics / When a decision is recorded and then retried with the same id / Then one emission."""
    from chalicelib.governance.decision_log import DecisionLog, SqliteDecisionStore, SqlitePseudonymVault

    m, lines = emitted()
    db = tmp_path / "m.db"
    log = DecisionLog(SqliteDecisionStore(db), SqlitePseudonymVault(db), metrics=m)
    log.create_schema()
    for _ in range(3):
        log.record(action="route_message", outcome="allow", decision_id="dec_same")
    assert sum(1 for line in lines if '"Decisions":1' in line) == 1
