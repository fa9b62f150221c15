"""Kill switch and shadow mode, per automated capability.

Why: when an automated capability misbehaves (a bad policy, a drifting model, a merchant outage)
an operator must be able to stop it in seconds without a deploy (``off``: every request of that
capability escalates to a human), and a new or changed capability must be able to run on real
traffic without acting (``shadow``: decided and logged with ``shadow=True``, never acted on; the
caller takes the human path, and ``python -m chalicelib.governance.audit shadow-report`` compares).

Sources: environment ``DA_CONTROL_<CAPABILITY>`` (set at deploy) and SSM Parameter Store
``/dispute-assistant/controls/<capability>`` (flipped at run time). When both are set the more
restrictive wins (off > shadow > on), so neither source can silently re-enable what the other
switched off. SSM values are cached for ``ttl_s`` per container; if SSM fails the last value read
stays in force, and with none read yet the capability is ``off`` (fail safe: humans take over).
An unreadable value ("of", "maybe") also counts as ``off``.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from typing import Callable, Literal, Mapping

from pydantic import BaseModel, ConfigDict

from chalicelib.governance.policy import PolicyOutcome

log = logging.getLogger(__name__)

Mode = Literal["on", "off", "shadow"]
CAPABILITIES: tuple[str, ...] = ("auto_file_dispute", "auto_release_hold", "auto_reply_email", "comprehend_tier")
SSM_PREFIX = "/dispute-assistant/controls/"
_RESTRICTIVENESS = {"on": 0, "shadow": 1, "off": 2}

# Reason codes added when a control overrides the policy outcome.
CONTROL_OFF = "control_off"
SHADOW_MODE = "shadow_mode"


class UnknownCapability(ValueError):
    pass


def _parse(value: str | None, source: str) -> Mode | None:
    if value is None:
        return None
    v = value.strip().lower()
    if v in ("on", "off", "shadow"):
        return v  # type: ignore[return-value]
    log.error("control value %r from %s is not on|off|shadow: treating it as off", value, source)
    return "off"


def most_restrictive(*modes: Mode | None) -> Mode:
    present = [m for m in modes if m is not None]
    return max(present, key=_RESTRICTIVENESS.__getitem__) if present else "on"


class Controls:
    """Reads capability modes; ``ssm_client`` optional (None → environment only)."""

    def __init__(
        self,
        ssm_client=None,
        *,
        env: Mapping[str, str] | None = None,
        prefix: str = SSM_PREFIX,
        ttl_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.ssm = ssm_client
        self.env = env if env is not None else os.environ
        self.prefix = prefix if prefix.endswith("/") else prefix + "/"
        self.ttl_s = ttl_s
        self.clock = clock
        self._ssm_values: dict[str, Mode | None] | None = None
        self._fetched_at: float | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls, ssm_client=None) -> "Controls":
        """SSM is consulted when ``DA_CONTROLS_SOURCE=ssm`` (client created lazily on first read)."""
        source = os.environ.get("DA_CONTROLS_SOURCE", "env").lower()
        ttl = float(os.environ.get("DA_CONTROLS_TTL_S", "30"))
        prefix = os.environ.get("DA_CONTROLS_SSM_PREFIX", SSM_PREFIX)
        if source == "ssm" and ssm_client is None:
            ssm_client = _LazySsm()
        return cls(ssm_client, prefix=prefix, ttl_s=ttl)

    def _env_mode(self, capability: str) -> Mode | None:
        key = f"DA_CONTROL_{capability.upper()}"
        return _parse(self.env.get(key), key)

    def _refresh_ssm(self) -> dict[str, Mode | None]:
        now = self.clock()
        if self._ssm_values is not None and self._fetched_at is not None and now - self._fetched_at < self.ttl_s:
            return self._ssm_values
        names = [self.prefix + c for c in CAPABILITIES]
        try:
            resp = self.ssm.get_parameters(Names=names)
            values: dict[str, Mode | None] = {c: None for c in CAPABILITIES}
            for p in resp.get("Parameters", []):
                cap = p["Name"][len(self.prefix):]
                if cap in values:
                    values[cap] = _parse(p.get("Value"), p["Name"])
            self._ssm_values = values
        except Exception as exc:  # any SSM failure: keep the last values, or fail safe
            if self._ssm_values is None:
                log.error("cannot read controls from SSM and none cached: all capabilities off: %s", exc)
                self._fetched_at = now
                return {c: "off" for c in CAPABILITIES}
            log.warning("cannot refresh controls from SSM, keeping cached values: %s", exc)
        self._fetched_at = now
        return self._ssm_values

    def mode(self, capability: str) -> Mode:
        if capability not in CAPABILITIES:
            raise UnknownCapability(f"unknown capability {capability!r}; known: {CAPABILITIES}")
        ssm_mode: Mode | None = None
        if self.ssm is not None:
            with self._lock:
                ssm_mode = self._refresh_ssm().get(capability)
        return most_restrictive(self._env_mode(capability), ssm_mode)

    def modes(self) -> dict[str, Mode]:
        return {c: self.mode(c) for c in CAPABILITIES}

    def invalidate(self) -> None:
        """Forget cached SSM values (an operator tool just flipped a switch in this process)."""
        with self._lock:
            self._fetched_at = None


class _LazySsm:
    """Creates the boto3 SSM client on first use, never at import or construction time."""

    def __init__(self):
        self._client = None

    def get_parameters(self, **kwargs):
        if self._client is None:

            from chalicelib.core.settings import get_settings

            from chalicelib.core.aws import client as aws_client
            self._client = aws_client("ssm", get_settings())
        return self._client.get_parameters(**kwargs)


class ControlledOutcome(BaseModel):
    """``acted``: the assistant's own decision takes effect (allow or deny without a human).
    ``outcome``: what the caller must do now (escalate whenever the control is off or shadow)."""

    model_config = ConfigDict(frozen=True)

    acted: bool
    outcome: Literal["allow", "escalate", "deny"]
    mode: Mode
    reasons: list[str]
    policy_outcome: PolicyOutcome


def apply_controls(capability: str, policy_outcome: PolicyOutcome, controls: Controls | None = None) -> ControlledOutcome:
    """Combine the policy's outcome with the capability's switch.

    on → the policy outcome stands (acted unless it escalates); off → escalate; shadow → escalate,
    and the caller logs the policy outcome with ``shadow=True`` (``DecisionLog.decide`` does).
    """
    mode = (controls or Controls.from_env()).mode(capability)  # the container passes its own
    if mode == "on":
        return ControlledOutcome(
            acted=policy_outcome.outcome != "escalate",
            outcome=policy_outcome.outcome,
            mode=mode,
            reasons=list(policy_outcome.reasons),
            policy_outcome=policy_outcome,
        )
    return ControlledOutcome(
        acted=False,
        outcome="escalate",
        mode=mode,
        reasons=[CONTROL_OFF if mode == "off" else SHADOW_MODE],
        policy_outcome=policy_outcome,
    )
