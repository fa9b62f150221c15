"""Progressive rollout: stable per-customer assignment, one stage at a time, automatic rollback on drift."""
from __future__ import annotations

import io
import random
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.governance.decision_log import DecisionLog, SqliteDecisionStore, SqlitePseudonymVault
from chalicelib.governance.drift import ARTIFACTS, REFERENCE_FILE, DriftReference, reference_from_eval
from chalicelib.governance.metrics import GovernanceMetrics
from chalicelib.governance.rollout import Rollout, RolloutError, RolloutPolicy, bucket, main
from chalicelib.governance.rollout_store import Observation, SqliteRolloutStore

CAP = "auto_file_dispute"


class Clock:
    def __init__(self):
        self.now = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)

    def __call__(self):
        return self.now


@pytest.fixture
def rig(tmp_path):
    db = tmp_path / "rollout.db"
    log = DecisionLog(SqliteDecisionStore(db), SqlitePseudonymVault(db))
    log.create_schema()
    emf: list[str] = []
    clock = Clock()
    # A new capability: its kill switch says shadow, so no customer is live until it is promoted.
    rollout = Rollout(SqliteRolloutStore(db), decision_log=log, metrics=GovernanceMetrics(sink=emf.append, enabled=True),
                      reference=DriftReference.load(), clock=clock, modes=lambda capability: "shadow")
    return rollout, log, emf, clock


def healthy(reference: DriftReference, n: int = 100) -> list[Observation]:
    """Traffic shaped like the training reference: its label mix and its confident share."""
    labels = [label for label, share in sorted(reference.labels.items()) for _ in range(round(share * n))]
    confident = round(reference.confidence["b1"] * len(labels))
    out = [Observation(escalated=i % 10 == 0, confidence=0.95 if i < confident else 0.4, label=label)
           for i, label in enumerate(labels)]
    random.Random(7).shuffle(out)
    return out


def feed(rollout, observations):
    for o in observations:
        rollout.observe(CAP, o)


def test_a_customer_always_gets_the_same_behaviour_and_a_stage_covers_its_share():
    # Given 4,000 customers
    customers = [f"cust-{i:05d}" for i in range(4000)]
    # Then the bucket is stable, and 5% of customers fall below 5 (within sampling noise)
    assert [bucket(CAP, c) for c in customers[:50]] == [bucket(CAP, c) for c in customers[:50]]
    share = sum(bucket(CAP, c) < 5 for c in customers) / len(customers)
    assert 0.035 < share < 0.065
    # And capabilities are assigned independently
    assert [bucket(CAP, c) for c in customers[:50]] != [bucket("auto_release_hold", c) for c in customers[:50]]


def test_a_capability_goes_5_25_100_then_drift_rolls_it_back_to_shadow_with_its_reason(rig):
    rollout, log, emf, clock = rig
    ref = rollout.reference
    # Given a new capability in shadow for everyone
    assert rollout.stage(CAP)[0] == 0 and not rollout.applies(CAP, "demo-alice")
    # When healthy traffic flows and an operator promotes after each window
    for expected in (5, 25, 100):
        feed(rollout, healthy(ref))
        if expected > 5:
            with pytest.raises(RolloutError, match="needs"):
                rollout.promote(CAP)  # the stage has not run a whole window yet
            clock.now += timedelta(hours=25)
            feed(rollout, healthy(ref))
        assert rollout.promote(CAP) == expected
    # Then the capability acts for everyone
    assert rollout.stage(CAP)[0] == 100 and rollout.applies(CAP, "demo-alice")
    # When the input drifts: a new kind of message the classifier is unsure of, all read as one label
    clock.now += timedelta(hours=1)
    feed(rollout, [Observation(confidence=0.45, label="unauthorised") for _ in range(60)])
    # Then it is rolled back to shadow automatically, with the reason recorded in the decision log
    assert rollout.stage(CAP)[0] == 0 and not rollout.applies(CAP, "demo-alice")
    rollback = [d for d in log.iter_decisions() if d.action == "rollout_rollback"]
    assert len(rollback) == 1 and "psi_confidence=" in " ".join(rollback[0].reasons)
    assert [d.action for d in log.iter_decisions()].count("rollout_promote") == 3
    assert log.verify().ok
    # And an alarm is raised as an EMF metric
    assert any('"RolloutRollback"' in line for line in emf)
    # And the history shows every step
    assert [(h.from_stage, h.to_stage) for h in rollout.store.history(CAP)] == [(0, 5), (5, 25), (25, 100), (100, 0)]


def test_promotion_needs_enough_decisions_and_held_guards(rig):
    rollout, _, _, clock = rig
    # Given too few decisions
    feed(rollout, healthy(rollout.reference)[:5])
    with pytest.raises(RolloutError, match="decisions"):
        rollout.promote(CAP)
    # Given a crossed guard (every decision escalated) in shadow: nothing to roll back, no promotion
    feed(rollout, [Observation(escalated=True) for _ in range(40)])
    with pytest.raises(RolloutError, match="escalation_rate"):
        rollout.promote(CAP)
    assert rollout.stage(CAP)[0] == 0


def test_the_cli_shows_stages_guards_and_history_and_refuses_an_early_promotion(rig):
    rollout, *_ = rig
    feed(rollout, healthy(rollout.reference))
    out = io.StringIO()
    assert main(["promote", CAP], rollout=rollout, out=out) == 0 and "now 5%" in out.getvalue()
    assert main(["promote", CAP], rollout=rollout, out=io.StringIO()) == 1
    out = io.StringIO()
    assert main(["status"], rollout=rollout, out=out) == 0
    assert f"{CAP}" in out.getvalue() and "0->5 promote" in out.getvalue()
    assert main(["promote", "teleport"], rollout=rollout, out=io.StringIO()) == 1


def test_the_policy_refuses_stages_that_do_not_rise_from_0_to_100():
    data = RolloutPolicy.load().model_dump()
    data["stages"] = (5, 25, 100)
    with pytest.raises(ValueError):
        RolloutPolicy.model_validate(data)


def test_the_reference_stored_with_the_model_is_the_one_its_evaluation_gives():
    assert (ARTIFACTS / REFERENCE_FILE).read_text() == reference_from_eval().to_json()


def test_in_aws_the_stage_is_an_ssm_parameter_under_the_controls_prefix(tmp_path):
    import boto3
    from moto import mock_aws

    from chalicelib.governance.rollout_store import SsmStageStore

    with mock_aws():
        ssm = boto3.client("ssm", region_name="us-east-1")
        store = SsmStageStore(ssm, "/dispute-assistant/controls/", SqliteRolloutStore(tmp_path / "r.db"))
        clock = Clock()
        rollout = Rollout(store, reference=DriftReference.load(), clock=clock, modes=lambda capability: "shadow")
        # Given no parameter yet and the kill switch in shadow: shadow for everyone
        assert rollout.stage(CAP)[0] == 0
        # When the capability is promoted
        feed(rollout, healthy(rollout.reference))
        rollout.promote(CAP)
        # Then the stage is the parameter's value, which every container reads
        value = ssm.get_parameter(Name="/dispute-assistant/controls/rollout/auto_file_dispute")["Parameter"]["Value"]
        assert '"stage": 5' in value and rollout.stage(CAP)[0] == 5


@pytest.mark.parametrize("mode, live", [("on", 100), ("shadow", 0), ("off", 0)])
def test_a_capability_never_staged_follows_its_kill_switch_and_status_says_so(tmp_path, mode, live):
    """Given a capability with no recorded stage and its kill switch at ``mode`` / When asked and when
    ``status`` runs / Then it is live for everyone only when the switch is on (as the gate treats it),
    and status shows that share and why, not a 0% that is false when the capability acts for all."""
    rollout = Rollout(SqliteRolloutStore(tmp_path / "r.db"), clock=Clock(), modes=lambda capability: mode)
    assert rollout.stage(CAP) == ((100 if mode == "on" else 0), "")
    assert rollout.applies(CAP, "demo-alice") is (mode == "on")
    out = io.StringIO()
    assert main(["status"], rollout=rollout, out=out) == 0
    line = next(line for line in out.getvalue().splitlines() if line.startswith(CAP))
    assert f"live {live:>3}%" in line and f"no stage recorded: follows its kill switch, mode {mode}" in line


def test_an_unstaged_capability_live_for_everyone_is_rolled_back_when_a_guard_is_crossed(rig):
    """Given a capability never staged whose kill switch is on (so it acts for every customer) /
    When its decisions cross a guard / Then it is rolled back to shadow (stage 0 recorded, with the
    reason), not left acting because it was never promoted."""
    rollout, log, emf, clock = rig
    rollout.modes = lambda capability: "on"
    assert rollout.stage(CAP)[0] == 100
    feed(rollout, [Observation(escalated=True) for _ in range(rollout.policy.min_decisions)])
    assert rollout.stage(CAP)[0] == 0
    change = rollout.store.history(CAP)[-1]
    assert (change.from_stage, change.to_stage) == (100, 0) and "escalation_rate" in change.reason
    assert any('"RolloutRollback"' in line for line in emf)


def test_promoting_an_unstaged_capability_starts_its_rollout_at_the_first_stage(rig):
    """Given a capability never staged with its switch on and healthy traffic / When promoted / Then it
    enters the rollout at 5% (from then on its stage decides), and status shows it as staged."""
    rollout, *_ = rig
    rollout.modes = lambda capability: "on"
    feed(rollout, healthy(rollout.reference))
    assert rollout.promote(CAP) == 5
    out = io.StringIO()
    main(["status"], rollout=rollout, out=out)
    line = next(line for line in out.getvalue().splitlines() if line.startswith(CAP))
    assert "live   5%" in line and "stage 5% since" in line


def test_a_shared_store_is_checked_at_most_once_a_minute_per_container(rig):
    """Given checks spaced a minute apart (the AWS wiring: each check reads the shared window) /
    When a burst of crossing observations arrives in the same second / Then one check ran (no
    rollback yet on a too-small sample), and the next observation after the minute rolls back."""
    rollout, _, _, clock = rig
    rollout.modes = lambda capability: "on"
    rollout.check_every = timedelta(seconds=60)
    feed(rollout, [Observation(escalated=True) for _ in range(rollout.policy.min_decisions)])
    assert rollout.stage(CAP)[0] == 100  # the first check saw one decision; the rest waited
    clock.now += timedelta(seconds=61)
    feed(rollout, [Observation(escalated=True)])
    assert rollout.stage(CAP)[0] == 0
