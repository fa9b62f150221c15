"""Fraud decisions are replayable: the stream records the rules' facts, the verdict and the fraud-action
policy version with each decision, and `audit replay` re-runs them and reports any difference."""
from __future__ import annotations

import io

from chalicelib.fraud.generator import generate_day, kinesis_records
from chalicelib.governance.audit import main as audit_main
from chalicelib.governance.audit import replay
from chalicelib.governance.policy import PolicyStore

from .conftest import ANCHOR, DAY


def streamed(world):
    events = [e for c in ("demo-alice", "demo-bob") for e in generate_day(c, DAY, anchor=ANCHOR)]
    assert world.processor().handle_records(kinesis_records(events)).response() == {"batchItemFailures": []}
    return [d for d in world.log.iter_decisions() if d.action == "fraud_action"]


def test_replay_re_runs_every_fraud_decision_and_finds_no_difference_in_an_honest_log(world):
    """Given a day streamed for both demo customers (four holds) / When `audit replay` runs / Then every
    fraud decision was re-run (none skipped for lack of inputs) and none differs."""
    fraud = streamed(world)
    assert len(fraud) >= 4 and all(d.inputs["kind"] == "fraud_action" and d.policy_version for d in fraud)
    assert {d.policy_outcome for d in fraud} >= {"hold"}
    report = replay(fraud, PolicyStore())
    assert (report.checked, report.skipped, report.differences, report.errors) == (len(fraud), 0, [], [])
    out = io.StringIO()
    assert audit_main(["replay"], log=world.log, out=out) == 0
    assert f"replayed {len(fraud)} decisions, 0 differences" in out.getvalue()
    # And a regulator's explanation of one shows its recorded facts (they are not decision-policy facts)
    out = io.StringIO()
    assert audit_main(["explain", fraud[0].decision_id, "--audience", "regulator"], log=world.log, out=out) == 0
    assert "rules_facts" in out.getvalue()


def test_replay_detects_a_tampered_fraud_input(world):
    """Given a recorded hold whose recorded facts were altered (the amount cut below the hold minimum,
    the new country erased) / When replayed / Then the difference is reported: the policy now says
    approve, and the rules' verdict no longer follows from the facts."""
    hold = next(d for d in streamed(world) if d.policy_outcome == "hold")
    facts = dict(hold.inputs["rules_facts"], amount_minor=1500.0, new_country=0.0)
    tampered = hold.model_copy(update={"inputs": {**hold.inputs, "amount_minor": 1500, "rules_facts": facts}})
    report = replay([tampered], PolicyStore())
    assert report.checked == 1 and len(report.differences) == 1
    diff = report.differences[0]
    assert (diff.recorded_outcome, diff.replayed_outcome) == ("hold", "approve")
    assert "rules verdict on the recorded facts" in diff.note


def test_a_fraud_decision_under_an_unknown_policy_version_is_an_error_not_a_pass(world):
    """Given a fraud decision naming a policy version no file has / When replayed / Then an error
    (exit 2 in the CLI), never counted as checked."""
    hold = next(d for d in streamed(world) if d.policy_outcome == "hold")
    report = replay([hold.model_copy(update={"policy_version": "fraud-actions-1999-01-01"})], PolicyStore())
    assert report.checked == 0 and "fraud-actions-1999-01-01" in report.errors[0]


def test_the_log_refuses_replay_inputs_it_could_not_re_run(world):
    """Given inputs without their kind, or without the policy version they were decided under / When
    recorded / Then DecisionLogError (a record replay would skip or misread is refused at the door)."""
    import pytest

    from chalicelib.governance.decision_log import DecisionLogError

    with pytest.raises(DecisionLogError):
        world.log.record(action="fraud_action", outcome="hold", inputs={"amount_minor": 1}, policy_version="v1")
    with pytest.raises(DecisionLogError):
        world.log.record(action="fraud_action", outcome="hold", inputs={"kind": "fraud_action"})
