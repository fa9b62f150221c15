"""Kill switch and shadow mode: environment and SSM sources, caching, fail-safe, effect on outcomes."""
from __future__ import annotations

import boto3
import pytest

from chalicelib.governance.controls import CONTROL_OFF, SHADOW_MODE, Controls, UnknownCapability, apply_controls
from chalicelib.governance.policy import PolicyOutcome

ALLOW = PolicyOutcome(outcome="allow", reasons=["within_policy"], policy_version="2026-11-01")
DENY = PolicyOutcome(outcome="deny", reasons=["pending_charge"], policy_version="2026-11-01")
ESCALATE = PolicyOutcome(outcome="escalate", reasons=["amount_over_limit"], policy_version="2026-11-01")


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


@pytest.mark.parametrize(
    "mode, policy, acted, outcome, reasons",
    [
        ("on", ALLOW, True, "allow", ["within_policy"]),
        ("on", DENY, True, "deny", ["pending_charge"]),
        ("on", ESCALATE, False, "escalate", ["amount_over_limit"]),
        ("off", ALLOW, False, "escalate", [CONTROL_OFF]),
        ("off", DENY, False, "escalate", [CONTROL_OFF]),
        ("shadow", ALLOW, False, "escalate", [SHADOW_MODE]),
        ("shadow", DENY, False, "escalate", [SHADOW_MODE]),
    ],
)
def test_apply_controls(mode, policy, acted, outcome, reasons):
    """Given a capability in each mode and each policy outcome / Then off and shadow always escalate and never act."""
    ctl = Controls(env={"DA_CONTROL_AUTO_FILE_DISPUTE": mode})
    got = apply_controls("auto_file_dispute", policy, controls=ctl)
    assert (got.acted, got.outcome, got.mode, got.reasons) == (acted, outcome, mode, reasons)
    assert got.policy_outcome == policy


def test_default_is_on_and_unknown_capability_is_an_error():
    """Given no configuration / Then every capability is on; a misspelt capability raises instead of passing."""
    ctl = Controls(env={})
    assert set(ctl.modes().values()) == {"on"}
    with pytest.raises(UnknownCapability):
        ctl.mode("auto_fil_dispute")


def test_garbage_value_fails_safe_to_off():
    """Given DA_CONTROL_AUTO_RELEASE_HOLD=maybe / Then the capability is off (humans take over)."""
    assert Controls(env={"DA_CONTROL_AUTO_RELEASE_HOLD": "maybe"}).mode("auto_release_hold") == "off"


def test_ssm_switch_is_cached_for_ttl_then_read_again(moto_aws):
    """Given SSM says on / When an operator flips it to off / Then the old value holds until the TTL passes."""
    ssm = boto3.client("ssm", region_name="us-east-1")
    ssm.put_parameter(Name="/dispute-assistant/controls/auto_reply_email", Value="on", Type="String")
    clock = Clock()
    ctl = Controls(ssm, env={}, ttl_s=30, clock=clock)
    assert ctl.mode("auto_reply_email") == "on"
    ssm.put_parameter(Name="/dispute-assistant/controls/auto_reply_email", Value="off", Type="String", Overwrite=True)
    clock.t += 29
    assert ctl.mode("auto_reply_email") == "on"
    clock.t += 2
    assert ctl.mode("auto_reply_email") == "off"


def test_more_restrictive_source_wins(moto_aws):
    """Given env says shadow and SSM says on / Then shadow; given SSM off / Then off."""
    ssm = boto3.client("ssm", region_name="us-east-1")
    ssm.put_parameter(Name="/dispute-assistant/controls/comprehend_tier", Value="on", Type="String")
    env = {"DA_CONTROL_COMPREHEND_TIER": "shadow"}
    assert Controls(ssm, env=env).mode("comprehend_tier") == "shadow"
    ssm.put_parameter(Name="/dispute-assistant/controls/comprehend_tier", Value="off", Type="String", Overwrite=True)
    assert Controls(ssm, env=env).mode("comprehend_tier") == "off"


class BrokenSsm:
    def __init__(self):
        self.fail = False
        self.value = "on"

    def get_parameters(self, Names):
        if self.fail:
            raise RuntimeError("ThrottlingException")
        return {"Parameters": [{"Name": Names[0], "Value": self.value}]}


def test_ssm_outage_keeps_last_values_or_fails_safe():
    """Given SSM read once (on) / When SSM fails / Then the cached value stays; with nothing cached / Then off."""
    ssm, clock = BrokenSsm(), Clock()
    ctl = Controls(ssm, env={}, ttl_s=1, clock=clock)
    assert ctl.mode("auto_file_dispute") == "on"
    ssm.fail = True
    clock.t += 5
    assert ctl.mode("auto_file_dispute") == "on"
    assert Controls(ssm, env={}, clock=clock).mode("auto_file_dispute") == "off"
