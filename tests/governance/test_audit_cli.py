"""The audit CLI: exit codes of verify and replay, exactly-the-affected replay, explain per audience."""
from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.governance.audit import main
from chalicelib.governance.decision_log import DecisionLog
from chalicelib.governance.policy import DecisionRequest
from tests.governance.conftest import base_policy_data, write_policy

REPO = Path(__file__).resolve().parents[2]


def run(argv, log, store=None):
    out = io.StringIO()
    code = main(argv, log=log, policy_store=store, out=out)
    return code, out.getvalue()


def dispute(amount, category="unauthorised", **kw):
    facts = dict(action="file_dispute", category=category, amount_minor=amount, currency="USD",
                 txn_age_days=5, txn_status="posted", customer_dispute_count_window=0)
    facts.update(kw)
    return DecisionRequest(**facts)


def seed(log: DecisionLog, store):
    """A mix of decisions: amounts either side of 20,000 and 50,000, several reasons, and a non-policy one."""
    policy = store.get("2026-11-01")
    cases = [
        dispute(10_000), dispute(25_000), dispute(45_000), dispute(60_000),
        dispute(30_000, category="duplicate"), dispute(30_000, vulnerable=True),
        dispute(35_000, txn_age_days=300),
    ]
    ids = [log.decide(r, customer_id=f"c{i}", policy=policy).decision.decision_id for i, r in enumerate(cases)]
    log.record(action="breaker_trip", outcome="open", actor="system", reasons=["breaker_open"])
    return ids, cases


def test_verify_exit_codes(backend, policy_store):
    """Given an intact log / Then verify exits 0; after one record is edited / Then exit 1 naming seq and id."""
    kind, log, tamper = backend
    ids, _ = seed(log, policy_store)
    code, out = run(["verify"], log)
    assert code == 0 and "OK" in out and "8 decisions" in out
    tamper.edit(4, lambda doc: doc.update(explanation="nothing to see"))
    code, out = run(["verify"], log)
    assert code == 1
    assert f"seq=4 id={ids[3]}" in out


def test_replay_with_recorded_versions_is_clean(decision_log, policy_store):
    """Given decisions made under 2026-11-01 / When replayed with their own version / Then exit 0, no differences."""
    seed(decision_log, policy_store)
    code, out = run(["replay"], decision_log, policy_store)
    assert code == 0, out
    assert "replayed 7 decisions, 0 differences, 1 without policy inputs skipped" in out


def test_policy_change_replay_reports_exactly_the_affected_decisions(decision_log, policy_store):
    """Given a new version lowering the unauthorised limit from 50,000 to 20,000 / When replayed with it /
    Then exactly the unauthorised decisions with 20,000 < amount <= 50,000 differ, and exit is 1."""
    ids, cases = seed(decision_log, policy_store)
    data = base_policy_data()
    data.update(version="2026-12-01", effective_from="2026-12-01")
    data["disputes"]["max_auto_amount_minor"]["USD"]["unauthorised"] = 20_000
    write_policy(policy_store.directory, data)

    code, out = run(["replay", "--policy", "2026-12-01", "--format", "json"], decision_log, policy_store)
    assert code == 1
    import json

    diffs = json.loads(out)["differences"]
    expected = {i for i, r in zip(ids, cases) if r.category == "unauthorised" and 20_000 < r.amount_minor <= 50_000}
    assert {d["decision_id"] for d in diffs} == expected
    assert len(expected) == 4  # 25k, 45k, the vulnerable 30k (new reason) and the out-of-window 35k (new reason)
    # "current" resolves to the newest version in the directory.
    assert run(["replay", "--policy", "current"], decision_log, policy_store)[0] == 1


def test_replay_detects_a_changed_record_input(backend, policy_store):
    """Given a recorded input edited so its stored outcome no longer follows / When replayed / Then exit 1 naming it."""
    kind, log, tamper = backend
    ids, _ = seed(log, policy_store)
    tamper.edit(1, lambda doc: doc["inputs"].update(amount_minor=99_999_999))
    code, out = run(["replay"], log, policy_store)
    assert code == 1
    assert f"DIFF seq=1 id={ids[0]}" in out


def test_replay_with_unknown_version_cannot_run(decision_log, policy_store):
    """Given a request to replay under a version that does not exist / Then exit 2, not a silent pass."""
    seed(decision_log, policy_store)
    code, out = run(["replay", "--policy", "1999-01-01"], decision_log, policy_store)
    assert code == 2 and "not found" in out


def test_explain_for_customer_hides_internals(decision_log, policy_store):
    """Given an escalated high-risk hold release / When explained to the customer / Then plain words, the policy
    version, next steps; no score, threshold or reason code."""
    policy = policy_store.current()
    r = decision_log.decide(
        DecisionRequest(action="release_hold", reason_codes=("VELOCITY",), risk_score=0.93, step_up_verified=True),
        customer_id="alice", policy=policy, scores={"fraud_risk": 0.93}, models={"fraud": "gbm-7"},
    )
    code, out = run(["explain", r.decision.decision_id], decision_log, policy_store)
    assert code == 0
    assert "fraud team" in out and "2026-11-01" in out and "ombudsman" in out
    for secret in ("0.93", "0.8", "risk_above_limit", "VELOCITY", "gbm", "cref_"):
        assert secret not in out


def test_explain_for_regulator_shows_rule_facts_and_chain(decision_log, policy_store):
    """Given the same decision / When explained to a regulator / Then the threshold, score, model and chain state appear."""
    policy = policy_store.current()
    r = decision_log.decide(
        DecisionRequest(action="release_hold", reason_codes=("VELOCITY",), risk_score=0.93, step_up_verified=True),
        customer_id="alice", policy=policy, scores={"fraud_risk": 0.93}, models={"fraud": "gbm-7"},
    )
    code, out = run(["explain", r.decision.decision_id, "--audience", "regulator"], decision_log, policy_store)
    assert code == 0
    assert "risk score 0.93 >= maximum 0.8" in out
    assert "fraud gbm-7" in out and "Chain: intact" in out


def test_explain_unknown_decision(decision_log, policy_store):
    """Given an id that was never recorded / Then exit 1."""
    assert run(["explain", "dec_nope"], decision_log, policy_store)[0] == 1


def test_shadow_report_agreement(decision_log, policy_store):
    """Given three shadow decisions, two resolved by agents (one agreeing) / Then agreement 50% over 2 resolved."""
    from chalicelib.governance.controls import Controls

    ctl = Controls(env={"DA_CONTROL_AUTO_FILE_DISPUTE": "shadow"})
    policy = policy_store.current()
    s = [decision_log.decide(dispute(a), customer_id="c", policy=policy, capability="auto_file_dispute", controls=ctl).decision
         for a in (1_000, 2_000, 90_000)]
    decision_log.record(action="file_dispute", outcome="allow", actor="agent:a1", related_to=s[0].decision_id)
    decision_log.record(action="file_dispute", outcome="deny", actor="agent:a1", related_to=s[1].decision_id)
    code, out = run(["shadow-report", "--format", "json"], decision_log, policy_store)
    import json

    rep = json.loads(out)
    assert code == 0
    assert (rep["shadow_decisions"], rep["resolved"], rep["agreed"], rep["agreement_rate"]) == (3, 2, 1, 0.5)


def test_cli_runs_as_a_module_against_the_configured_sqlite(tmp_path):
    """Given DA_SQLITE_PATH pointing at a fresh store / When `python -m chalicelib.governance.audit verify --no-anchor`
    runs / Then exit 0 (a fresh store has nothing anchored yet)."""
    env = {**os.environ, "DA_BACKEND": "sqlite", "DA_SQLITE_PATH": str(tmp_path / "cli.db"), "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "chalicelib.governance.audit", "verify", "--no-anchor"], env=env, capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "chain intact, 0 decisions" in done.stdout


def test_export_then_verify_file(decision_log, policy_store, tmp_path):
    """Given a log exported to a file / When verify --jsonl reads it / Then exit 0."""
    seed(decision_log, policy_store)
    path = tmp_path / "export.jsonl"
    assert run(["export", "--out", str(path)], decision_log)[0] == 0
    assert run(["verify", "--jsonl", str(path)], None)[0] == 0
