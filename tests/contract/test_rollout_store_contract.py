"""The rollout's records (guard observations, stage and its history): one contract, SQLite and DynamoDB
(moto, through a client and through a ``boto3.resource``).

Why both: locally the guards read the one SQLite file; in AWS every Lambda container's decisions must
count towards one guard, so they share a DynamoDB table. Both must answer the window query the same way."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.governance.rollout_store import Observation, SqliteRolloutStore

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", "dynamodb", "dynamodb-resource"])
def records(request, tmp_path, monkeypatch):
    if request.param == "sqlite":
        yield SqliteRolloutStore(tmp_path / "rollout.db")
        return
    import boto3
    from moto import mock_aws

    from chalicelib.governance.rollout_dynamodb import DynamoRolloutStore
    from tests.support.aws import REGION, atomic_requests, use_fake_credentials

    use_fake_credentials(monkeypatch)
    with mock_aws():
        handle = (boto3.resource("dynamodb", region_name=REGION) if request.param == "dynamodb-resource"
                  else atomic_requests(boto3.client("dynamodb", region_name=REGION)))
        store = DynamoRolloutStore(handle, "da-rollout")
        store.create_schema()
        yield store


def test_given_observations_when_a_window_is_read_then_exactly_those_inside_it_come_back_whole(records):
    """Given observations before, inside and at the edges of a window (one in another zone's clock)
    / When the window is read / Then exactly the ones inside come back, every field intact."""
    inside = Observation(escalated=True, overturned=True, disagreed_with_rules=True, cost_usd=0.0025,
                         confidence=0.91, label="unauthorised")
    records.observe("auto_file_dispute", T0 - timedelta(seconds=1), Observation(escalated=True))
    records.observe("auto_file_dispute", T0, inside)
    records.observe("auto_file_dispute", (T0 + timedelta(hours=1)).astimezone(timezone(timedelta(hours=-5))),
                    Observation())
    records.observe("auto_file_dispute", T0 + timedelta(hours=2), Observation(cost_usd=1.0))
    records.observe("model_scoring", T0, Observation(disagreed_with_rules=True))
    got = records.observations("auto_file_dispute", T0, T0 + timedelta(hours=1))
    assert sorted(got, key=lambda o: o.escalated) == [Observation(), inside]
    assert records.observations("model_scoring", T0, T0) == [Observation(disagreed_with_rules=True)]
    assert records.observations("comprehend_tier", T0 - timedelta(days=1), T0 + timedelta(days=1)) == []


def test_given_many_observations_when_read_then_none_is_lost_across_partitions(records):
    """Given 60 observations in one second (the DynamoDB twin spreads them over shards) / When the
    window is read / Then all 60 come back."""
    for i in range(60):
        records.observe("model_scoring", T0 + timedelta(milliseconds=i), Observation(cost_usd=i / 1000))
    got = records.observations("model_scoring", T0, T0 + timedelta(seconds=1))
    assert sorted(o.cost_usd for o in got) == [i / 1000 for i in range(60)]


def test_given_stage_changes_when_read_then_the_last_stage_stands_and_history_keeps_every_change(records):
    """Given no stage, then a promotion and a rollback / When read / Then the stage is the last one
    (with when it began) and the history lists both changes in order, with their reasons."""
    assert records.get_stage("auto_release_hold") is None and records.history("auto_release_hold") == []
    records.set_stage("auto_release_hold", 5, T0, "promote: guards held", 0)
    records.set_stage("auto_release_hold", 0, T0 + timedelta(hours=30), "rollback: rules_disagreement=0.5>0.2", 5)
    stage, since = records.get_stage("auto_release_hold")
    assert stage == 0 and datetime.fromisoformat(since) == T0 + timedelta(hours=30)
    hist = records.history("auto_release_hold")
    assert [(h.from_stage, h.to_stage, h.reason) for h in hist] == [
        (0, 5, "promote: guards held"), (5, 0, "rollback: rules_disagreement=0.5>0.2")]
    assert records.get_stage("model_scoring") is None


def test_given_a_naive_time_when_observed_then_it_is_refused_not_misfiled(records):
    """Given a time without a zone / When observed / Then ValueError (a naive time sorts wrongly
    against UTC keys and would silently fall out of the window)."""
    with pytest.raises(ValueError, match="timezone"):
        records.observe("model_scoring", datetime(2026, 12, 1, 9, 0), Observation())


def test_given_stages_history_and_observations_when_reset_then_nothing_is_left(records):
    """Given a capability promoted twice with observations, and another capability's stage / When the
    records are reset (a demo reseeding) / Then no stage, no history and no observation is left, and new
    ones are kept as before."""
    records.set_stage("auto_release_hold", 5, T0, "promoted", 0)
    records.set_stage("auto_release_hold", 25, T0 + timedelta(hours=1), "guards held", 5)
    records.set_stage("model_scoring", 100, T0, "promoted", 25)
    records.observe("auto_release_hold", T0, Observation(disagreed_with_rules=True))
    records.reset()
    assert records.get_stage("auto_release_hold") is None and records.get_stage("model_scoring") is None
    assert records.history("auto_release_hold") == [] and records.history("model_scoring") == []
    assert records.observations("auto_release_hold", T0 - timedelta(days=1), T0 + timedelta(days=1)) == []
    records.set_stage("auto_release_hold", 5, T0, "promoted", 0)
    assert records.get_stage("auto_release_hold")[0] == 5 and len(records.history("auto_release_hold")) == 1
