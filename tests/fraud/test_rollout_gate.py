"""The capabilities ask the rollout: at 5% they act for the customers in the bucket and shadow the
rest; every decision (and an agent's overturn) feeds the capability's guards."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pytest

from chalicelib.core.models import DisputeReason
from chalicelib.fraud.scoring import RulesEngine, SelectiveScorer
from chalicelib.governance.controls import Controls
from chalicelib.governance.rollout import Rollout, bucket
from chalicelib.governance.rollout_gate import DeferredObservations, RolloutGate
from chalicelib.governance.rollout_store import SqliteRolloutStore
from intents.governance_gate import Governance

from .test_scoring import risky_ctx

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


def customers_in_and_out(capability: str, stage: int = 5) -> tuple[str, str]:
    ids = [f"cust-{i:04d}" for i in range(400)]
    return (next(c for c in ids if bucket(capability, c) < stage), next(c for c in ids if bucket(capability, c) >= stage))


@pytest.fixture
def gate(tmp_path):
    return RolloutGate(Rollout(SqliteRolloutStore(tmp_path / "r.db"), clock=lambda: NOW))


def at_stage(gate, capability, stage):
    gate.rollout.store.set_stage(capability, stage, NOW, "test", 0)


def test_given_a_capability_never_rolled_out_when_asked_then_its_kill_switch_alone_decides(gate):
    # Given no stage recorded for auto_release_hold
    # Then every customer is live, and off/shadow stay what the switch says
    assert gate.live("auto_release_hold", "cust-0001") is True
    assert gate.mode("auto_release_hold", "cust-0001", "off") == "off"
    assert gate.mode("auto_release_hold", "cust-0001", "shadow") == "shadow"


def test_given_5_percent_when_asked_then_only_the_bucket_is_live_and_the_switch_is_never_widened(gate):
    # Given auto_file_dispute at 5%
    at_stage(gate, "auto_file_dispute", 5)
    inside, outside = customers_in_and_out("auto_file_dispute")
    # Then the customer in the bucket is live, the other runs in shadow, an anonymous turn too
    assert gate.mode("auto_file_dispute", inside, "on") == "on"
    assert gate.mode("auto_file_dispute", outside, "on") == "shadow"
    assert gate.mode("auto_file_dispute", None, "on") == "shadow"
    # And the rollout never turns a switched-off capability on
    assert gate.mode("auto_file_dispute", inside, "off") == "off"


def test_given_an_unreadable_stage_when_asked_then_shadow_for_that_decision(gate):
    # Given a store that fails
    class Broken:
        def get_stage(self, capability):
            raise OSError("disk gone")

    gate.rollout.store = Broken()
    # Then the decision is shadowed rather than acted on, and nothing raises
    assert gate.mode("model_scoring", "cust-0001", "on") == "shadow"


def test_given_dispute_filing_at_5_percent_when_two_customers_file_then_one_acts_and_one_shadows(world, gate):
    # Given automated dispute filing at 5%, the switch on
    at_stage(gate, "auto_file_dispute", 5)
    gov = Governance(world.log, world.store, lambda: NOW, controls=Controls(env={}), rollout=gate)
    inside, outside = customers_in_and_out("auto_file_dispute")
    txn = next(t for t in world.store.transactions.list_for_customer("demo-alice") if t.amount_minor > 0)
    # When both file a dispute on the same kind of payment
    live = gov.decide_dispute(None, replace_customer(txn, inside), DisputeReason.not_received, txn.amount_minor)
    shadow = gov.decide_dispute(None, replace_customer(txn, outside), DisputeReason.not_received, txn.amount_minor)
    # Then the customer in the bucket gets the policy's own decision, the other a shadow one
    assert live.mode == "on"
    assert shadow.mode == "shadow" and shadow.acted is False and shadow.outcome == "escalate"
    assert world.log.get(shadow.decision_id).shadow is True
    # And both decisions fed the guards
    assert gate.rollout.report("auto_file_dispute").decisions == 2


def replace_customer(txn, customer_id):
    return txn.model_copy(update={"customer_id": customer_id, "txn_id": f"{txn.txn_id}-{customer_id}"})


class FixedModel:
    name = "sagemaker"

    def __init__(self, value):
        self.value = value

    def score(self, ctx):
        from chalicelib.fraud.scoring import RiskAssessment

        return RiskAssessment(self.value, (), "sagemaker", "m1")


def test_given_model_scoring_at_5_percent_when_scored_then_acted_on_in_the_bucket_and_shadow_elsewhere(world, gate):
    # Given model scoring "on" but rolled out to 5%, and a model that calls a risky payment safe
    at_stage(gate, "model_scoring", 5)
    scorer = SelectiveScorer(RulesEngine(), FixedModel(0.01), mode="on", floor=0.3, rollout=gate)
    inside, outside = customers_in_and_out("model_scoring")
    ctx = risky_ctx(world)
    # When a payment of each customer is scored
    live = scorer.score(replace(ctx, txn=ctx.txn.model_copy(update={"customer_id": inside})))
    shadow = scorer.score(replace(ctx, txn=ctx.txn.model_copy(update={"customer_id": outside})))
    # Then the model's score is acted on only in the bucket; outside it is scored and kept beside the rules
    assert live.mode == "on" and live.acted_on.scorer == "sagemaker"
    assert shadow.mode == "shadow" and shadow.acted_on.scorer == "rules" and shadow.model.score == 0.01
    # And both model calls fed the guard: each disagreed with the rules' hold
    seen = gate.rollout.store.observations("model_scoring", NOW.replace(year=2000), NOW)
    assert [o.disagreed_with_rules for o in seen] == [True, True]


def test_given_a_batch_when_observations_are_deferred_then_they_reach_the_guards_only_on_flush(gate):
    # Given the stream's deferred view of the gate
    deferred = DeferredObservations(gate)
    deferred.observe("model_scoring", disagreed_with_rules=True, cost_usd=0.002)
    # Then nothing is written inside the batch, and the flush after the commit writes it
    assert gate.rollout.report("model_scoring").decisions == 0
    assert deferred.flush() == 1
    assert gate.rollout.report("model_scoring").decisions == 1


def test_given_many_disagreements_when_observed_then_the_guard_rolls_model_scoring_back_to_shadow(gate):
    # Given model scoring at 25% and a model that disagrees with the rules on every payment
    at_stage(gate, "model_scoring", 25)
    for _ in range(gate.rollout.policy.min_decisions):
        gate.observe("model_scoring", disagreed_with_rules=True)
    # Then the rollout rolled it back: nobody is live any more
    assert gate.rollout.stage("model_scoring")[0] == 0
    assert gate.mode("model_scoring", customers_in_and_out("model_scoring", 25)[0], "on") == "shadow"


def test_given_released_holds_later_disputed_as_not_theirs_when_too_many_then_hold_release_rolls_back(world, gate):
    """Given hold release at 25%, 20 releases after step-up, and the released payments of one customer /
    When the customer disputes 6 of them as unauthorised (the rules' hold was right: 6 of 26 decisions,
    above the 0.20 disagreement guard) / Then auto_release_hold is rolled back to shadow with
    rules_disagreement as the reason, while a dispute of another kind, or of a payment never released,
    feeds nothing."""
    from chalicelib.core.models import FraudAction, FraudDecision

    at_stage(gate, "auto_release_hold", 25)
    gov = Governance(world.log, world.store, lambda: NOW, controls=Controls(env={}), rollout=gate)
    for _ in range(20):
        gate.observe("auto_release_hold", escalated=False)  # the releases themselves
    paid = [t for t in world.store.transactions.list_for_customer("demo-alice") if t.amount_minor > 0][:8]
    for i, txn in enumerate(paid):
        world.store.fraud.put(FraudDecision(decision_id=f"fd-{i}", customer_id=txn.customer_id, txn_id=txn.txn_id,
                                            action=FraudAction.hold, risk_score=0.7, reason_codes=["UNUSUAL_AMOUNT"],
                                            model_version="fraud-rules-v1", released=i != 7))
    # A released payment disputed for another reason, and a hold never released, count for nothing
    gov.decide_dispute(None, paid[6], DisputeReason.not_received, paid[6].amount_minor)
    gov.decide_dispute(None, paid[7], DisputeReason.unauthorised, paid[7].amount_minor)
    assert gate.rollout.report("auto_release_hold").decisions == 20
    for txn in paid[:6]:
        gov.decide_dispute(None, txn, DisputeReason.unauthorised, txn.amount_minor)
    assert gate.rollout.stage("auto_release_hold")[0] == 0
    change = gate.rollout.store.history("auto_release_hold")[-1]
    assert (change.from_stage, change.to_stage) == (25, 0) and "rules_disagreement=0.231>0.2" in change.reason
