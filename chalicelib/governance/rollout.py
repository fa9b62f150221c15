"""Progressive rollout with automatic rollback, per automated capability.

Why: a capability switched on for everyone at once (a new policy, a model, the Comprehend tier)
fails for everyone at once. Instead each capability has a stage (0 / 5 / 25 / 100 % of customers,
data in ``policies/rollout/rollout-*.yaml``); a customer is in or out by a stable hash of their id and the
capability, so one customer always gets one behaviour while the rest run in shadow (decided and
logged, never acted on). Guards are measured over a window from the capability's own decisions
(escalation rate, agent overturn rate, disagreement with the rules engine, cost per decision, and
PSI drift of the classifier's confidence and label mix against the reference stored with the model):

- crossing any guard rolls the capability back to 0 (shadow) at once, records why in the decision
  log (action ``rollout_rollback``) and raises an alarm (an error log line and the EMF metric
  ``RolloutRollback``);
- ``promote`` moves one stage up, and only when the current stage has run a whole window, with at
  least ``min_decisions`` decisions and every guard held.

A capability with no recorded stage follows its kill switch alone (``on``: live for everyone, shown
as 100%; ``shadow`` / ``off``: 0%), exactly as :class:`~chalicelib.governance.rollout_gate.RolloutGate`
treats it: a bank that switched a capability on before staging it must see it as live, and a guard
it crosses still rolls it back to shadow. Its first ``promote`` puts it under the rollout at 5%.

    python -m chalicelib.governance.rollout status
    python -m chalicelib.governance.rollout promote CAPABILITY
    python -m chalicelib.governance.rollout check
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from chalicelib.governance.decision_log import derive_decision_id
from chalicelib.governance.drift import DriftReference
from chalicelib.governance.rollout_store import Observation, SqliteRolloutStore, SsmStageStore

log = logging.getLogger(__name__)
POLICY_DIR = Path(__file__).resolve().parent / "policies" / "rollout"  # apart from the decision policies
GuardName = Literal["escalation_rate", "agent_overturn_rate", "rules_disagreement", "cost_per_decision_usd",
                    "psi_confidence", "psi_labels"]


class RolloutError(ValueError):
    """A rollout command that cannot be done (unknown capability, guards not held, last stage)."""


class CapabilityRollout(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    guards: dict[GuardName, float] = Field(min_length=1)


class RolloutPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    version: str = Field(min_length=1, max_length=64)
    stages: tuple[int, ...]
    window_hours: float = Field(gt=0)
    min_decisions: int = Field(ge=1)
    min_drift_sample: int = Field(ge=1)
    capabilities: dict[str, CapabilityRollout] = Field(min_length=1)

    @model_validator(mode="after")
    def _stages(self) -> "RolloutPolicy":
        if self.stages[0] != 0 or self.stages[-1] != 100 or list(self.stages) != sorted(set(self.stages)):
            raise ValueError("stages must rise strictly from 0 (shadow for all) to 100")
        return self

    @classmethod
    def load(cls, path: str | Path | None = None) -> "RolloutPolicy":
        path = Path(path) if path else sorted(POLICY_DIR.glob("rollout-*.yaml"))[-1]
        return cls.model_validate(yaml.safe_load(Path(path).read_text()))


def bucket(capability: str, customer_id: str) -> int:
    """0..99, stable for a customer and capability (and independent between capabilities)."""
    digest = hashlib.sha256(f"rollout|{capability}|{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100


@dataclass
class GuardReport:
    capability: str
    stage: int
    since: str
    decisions: int
    values: dict[str, float] = field(default_factory=dict)
    breaches: dict[str, tuple[float, float]] = field(default_factory=dict)  # guard -> (value, threshold)


def guard_values(observations: list[Observation], reference: DriftReference | None, *, min_rates: int = 1,
                 min_drift: int = 1) -> dict[str, float]:
    """Each guard's value over ``observations``; a guard judged on too small a sample is left out
    (a handful of decisions proves nothing, and PSI over few samples is mostly noise)."""
    n = len(observations)
    if n < min_rates:
        return {}
    values = {
        "escalation_rate": sum(o.escalated for o in observations) / n,
        "agent_overturn_rate": sum(o.overturned for o in observations) / n,
        "rules_disagreement": sum(o.disagreed_with_rules for o in observations) / n,
        "cost_per_decision_usd": sum(o.cost_usd for o in observations) / n,
    }
    if reference is not None:
        confidences = [o.confidence for o in observations if o.confidence is not None]
        labels = [o.label for o in observations if o.label]
        if len(confidences) >= min_drift:
            values["psi_confidence"] = reference.psi_confidence(confidences)
        if len(labels) >= min_drift:
            values["psi_labels"] = reference.psi_labels(labels)
    return values


class Rollout:
    """``modes`` is the kill switch (capability -> on | shadow | off): a capability with no recorded
    stage follows it alone (on: live for everyone, 100%; shadow or off: 0%), as the gate does, so
    ``status`` tells the truth and a guard crossed by an unstaged live capability still rolls it back.
    Without ``modes`` every switch reads ``on``. ``check_every_s`` spaces the guard checks an
    observation triggers (a shared store in AWS answers a window query per check; locally 0: every time)."""

    def __init__(self, store, *, policy: RolloutPolicy | None = None, decision_log=None, metrics=None,
                 reference: DriftReference | None = None, clock: Callable[[], datetime] | None = None,
                 modes: Callable[[str], str] | None = None, check_every_s: float = 0.0):
        self.store = store
        self.policy = policy or RolloutPolicy.load()
        self.decision_log = decision_log
        self.metrics = metrics
        self.reference = reference
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.modes = modes or (lambda capability: "on")
        self.check_every = timedelta(seconds=check_every_s)
        self._checked: dict[str, datetime] = {}

    def _known(self, capability: str) -> CapabilityRollout:
        if capability not in self.policy.capabilities:
            raise RolloutError(f"unknown capability {capability!r}; known: {sorted(self.policy.capabilities)}")
        return self.policy.capabilities[capability]

    def stage(self, capability: str) -> tuple[int, str]:
        """(percent, since): the recorded stage, or for a capability never staged its kill switch's
        default (100 when ``on``, else 0) with ``since`` empty."""
        self._known(capability)
        recorded = self.store.get_stage(capability)
        if recorded is not None:
            return recorded
        return (100 if self.modes(capability) == "on" else 0), ""

    def applies(self, capability: str, customer_id: str) -> bool:
        """True: act for this customer; False: shadow (decide and log, never act)."""
        return bucket(capability, customer_id) < self.stage(capability)[0]

    def observe(self, capability: str, obs: Observation, at: datetime | None = None) -> GuardReport:
        """Record one decision and check the guards (a breach rolls back at once)."""
        self._known(capability)
        now = self.clock()
        self.store.observe(capability, at or now, obs)
        last = self._checked.get(capability)
        if last is not None and now - last < self.check_every:
            return GuardReport(capability, *self.stage(capability), decisions=0)  # checked moments ago
        self._checked[capability] = now
        return self.check(capability)

    def report(self, capability: str) -> GuardReport:
        guards = self._known(capability).guards
        stage, since = self.stage(capability)
        now = self.clock()
        start = now - timedelta(hours=self.policy.window_hours)
        if since:
            start = max(start, datetime.fromisoformat(since))  # an earlier stage's traffic is not this one's
        obs = self.store.observations(capability, start, now)
        values = guard_values(obs, self.reference, min_rates=self.policy.min_decisions,
                              min_drift=self.policy.min_drift_sample)
        breaches = {g: (values[g], limit) for g, limit in guards.items() if g in values and values[g] > limit}
        return GuardReport(capability, stage, since, len(obs), {g: values[g] for g in guards if g in values}, breaches)

    def check(self, capability: str) -> GuardReport:
        report = self.report(capability)
        if report.breaches and report.stage > 0:
            self._rollback(report)
        return report

    def promote(self, capability: str) -> int:
        """One stage up. A capability never staged starts its rollout at the first stage above 0
        (it enters the rollout; from then on its stage, not its kill switch alone, decides)."""
        report = self.report(capability)
        stages = self.policy.stages
        if self.store.get_stage(capability) is None:
            report.stage, report.since = 0, ""
        if report.stage == stages[-1]:
            raise RolloutError(f"{capability} is already at {stages[-1]}%")
        now = self.clock()
        ran = now - datetime.fromisoformat(report.since) if report.since else None
        window = timedelta(hours=self.policy.window_hours)
        if report.breaches:
            raise RolloutError(f"{capability}: guards crossed: {_why(report)}")
        if report.stage > 0 and (ran is None or ran < window):
            raise RolloutError(f"{capability}: stage {report.stage}% has run {ran or timedelta(0)}, needs {window}")
        if report.decisions < self.policy.min_decisions:
            raise RolloutError(f"{capability}: {report.decisions} decisions in the window, needs "
                               f"{self.policy.min_decisions}")
        new = stages[stages.index(report.stage) + 1]
        self._change(capability, report.stage, new, "promote", f"guards held: {_values(report)}")
        return new

    def _rollback(self, report: GuardReport) -> None:
        why = _why(report)
        self._change(report.capability, report.stage, 0, "rollback", why)
        log.error(json.dumps({"event": "rollout_rollback", "alarm": True, "capability": report.capability,
                              "from_stage": report.stage, "reason": why, "policy": self.policy.version}))
        if self.metrics is not None:
            self.metrics.put("RolloutRollback", 1, Capability=report.capability)

    def _change(self, capability: str, old: int, new: int, kind: str, reason: str) -> None:
        now = self.clock()
        self.store.set_stage(capability, new, now, f"{kind}: {reason}", old)
        if self.decision_log is not None:
            self.decision_log.record(
                action=f"rollout_{kind}", outcome=f"stage_{new}", actor="system", channel="system",
                capability=capability, reasons=[reason], models={"rollout_policy": self.policy.version},
                decision_id=derive_decision_id(f"rollout_{kind}", capability, now.isoformat()),
                explanation=f"{capability}: {old}% -> {new}% ({kind}) because {reason}.")

    def status(self) -> list[dict]:
        out = []
        for cap in self.policy.capabilities:
            r = self.report(cap)
            mode = self.modes(cap)
            out.append({"capability": cap, "stage": r.stage, "since": r.since, "decisions": r.decisions,
                        "mode": mode, "staged": bool(r.since), "live": r.stage if mode == "on" else 0,
                        "guards": {g: round(v, 4) for g, v in r.values.items()},
                        "crossed": sorted(r.breaches),
                        "history": [f"{h.at} {h.from_stage}->{h.to_stage} {h.reason}" for h in self.store.history(cap)]})
        return out


def _why(report: GuardReport) -> str:
    return ", ".join(f"{g}={v:.3f}>{limit}" for g, (v, limit) in sorted(report.breaches.items()))


def _stage_words(row: dict) -> str:
    """Why the live share is what it is, in an operator's words."""
    if not row["staged"]:
        return f"(no stage recorded: follows its kill switch, mode {row['mode']})"
    if row["mode"] != "on":
        return f"(stage {row['stage']}% since {row['since']}, but kill switch mode {row['mode']})"
    return f"(stage {row['stage']}% since {row['since']})"


def _values(report: GuardReport) -> str:
    return ", ".join(f"{g}={v:.3f}" for g, v in sorted(report.values.items())) or "none measured"


# In AWS the observations are shared (DynamoDB): a guard check reads the window, so one container
# checks a capability at most once a minute (a rollback may come up to a minute late, never lost).
SHARED_CHECK_EVERY_S = 60.0


def build_rollout_store(settings):
    """Where this deployment keeps rollout records: the SQLite file locally; in AWS the shared
    DynamoDB table, with the stage in SSM when the controls are (``DA_CONTROLS_SOURCE=ssm``)."""
    import os

    from chalicelib.core.aws import client as aws_client

    if settings.backend == "dynamodb":
        from chalicelib.governance.rollout_dynamodb import DynamoRolloutStore

        records = DynamoRolloutStore(aws_client("dynamodb", settings), settings.tables.rollout)
    else:
        records = SqliteRolloutStore(settings.sqlite_path)
    if os.environ.get("DA_CONTROLS_SOURCE", "env").lower() == "ssm":
        from chalicelib.governance.controls import SSM_PREFIX

        return SsmStageStore(aws_client("ssm", settings), os.environ.get("DA_CONTROLS_SSM_PREFIX", SSM_PREFIX), records)
    return records


def kill_switch_modes(controls, model_mode: str) -> Callable[[str], str]:
    """Each capability's kill switch: the controls' mode, the fraud model's configured mode for
    ``model_scoring``; a capability no switch knows is ``off`` (fail safe)."""
    from chalicelib.governance.controls import UnknownCapability

    def mode(capability: str) -> str:
        if capability == "model_scoring":
            return model_mode
        try:
            return controls.mode(capability)
        except UnknownCapability:
            return "off"

    return mode


def build_rollout(settings=None, *, controls=None, decision_log=None, metrics=None,
                  clock: Callable[[], datetime] | None = None) -> Rollout:
    """The rollout on this deployment's records (the composition root hands in its own services)."""
    from chalicelib.core.settings import get_settings
    from chalicelib.governance.controls import Controls
    from chalicelib.governance.decision_log import build_decision_log
    from chalicelib.governance.metrics import GovernanceMetrics

    settings = settings or get_settings()
    try:
        reference = DriftReference.load()
    except FileNotFoundError:
        reference = None  # no reference shipped with the model: the drift guards are not judged
    return Rollout(build_rollout_store(settings), decision_log=decision_log or build_decision_log(settings),
                   metrics=metrics or GovernanceMetrics(), reference=reference, clock=clock,
                   modes=kill_switch_modes(controls or Controls.from_env(), settings.fraud_model_mode),
                   check_every_s=SHARED_CHECK_EVERY_S if settings.backend == "dynamodb" else 0.0)


def main(argv: list[str] | None = None, rollout: Rollout | None = None, out=None) -> int:
    out = out or sys.stdout
    p = argparse.ArgumentParser(prog="python -m chalicelib.governance.rollout")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("status", help="each capability's stage, guard values and history")
    pr = sub.add_parser("promote", help="one stage up, only when the guards held for the window")
    pr.add_argument("capability")
    sub.add_parser("check", help="evaluate every guard now (rolls back what crossed one)")
    args = p.parse_args(argv)
    rollout = rollout or build_rollout()
    try:
        if args.cmd == "promote":
            out.write(f"{args.capability}: now {rollout.promote(args.capability)}%\n")
        elif args.cmd == "check":
            for cap in rollout.policy.capabilities:
                r = rollout.check(cap)
                out.write(f"{cap}: {'ROLLED BACK: ' + _why(r) if r.breaches and r.stage else 'ok'}\n")
        else:
            for row in rollout.status():
                out.write(f"{row['capability']:<20} live {row['live']:>3}%  {_stage_words(row)}  "
                          f"decisions={row['decisions']}  guards={row['guards']}  crossed={row['crossed']}\n")
                for h in row["history"]:
                    out.write(f"    {h}\n")
    except RolloutError as exc:
        out.write(f"error: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
