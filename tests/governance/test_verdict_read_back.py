"""The verdict acted on is the verdict in the log (issue 8.5): first writer wins, a retry reads it back."""
from __future__ import annotations

from chalicelib.governance.policy import DecisionRequest, Policy

from .conftest import base_policy_data, write_policy


def _request() -> DecisionRequest:
    return DecisionRequest(action="file_dispute", category="unauthorised", amount_minor=30_000, currency="USD",
                           txn_age_days=5, txn_status="posted", customer_dispute_count_window=0)


def test_second_caller_gets_the_first_outcome_after_a_policy_change(decision_log, policy, tmp_path):
    """Given a filing allowed under one policy and logged under a deterministic id, When the policy is
    tightened so the same facts now escalate and the same id is decided again, Then the second caller
    gets the first, logged outcome (allow, acted) and the log holds one record."""
    data = base_policy_data()
    data["version"] = data["version"] + "-tight"
    data["disputes"]["max_auto_amount_minor"]["USD"]["unauthorised"] = 10_000
    tight = Policy.load(write_policy(tmp_path, data))
    assert tight.evaluate(_request()).outcome != "allow"

    first = decision_log.decide(_request(), customer_id="c1", policy=policy, decision_id="dec_same_turn")
    second = decision_log.decide(_request(), customer_id="c1", policy=tight, decision_id="dec_same_turn")

    assert first.outcome == "allow" and first.acted
    assert (second.outcome, second.acted, second.mode) == (first.outcome, first.acted, first.mode)
    assert second.policy_outcome == first.policy_outcome
    assert second.decision.hash == first.decision.hash
    assert [d.decision_id for d in decision_log.iter_decisions()] == ["dec_same_turn"]
