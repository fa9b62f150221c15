"""Audit tools over the decision log: verify, anchor, replay, explain, shadow-report, export, head.

    python -m chalicelib.governance.audit verify [--jsonl FILE] [--head HASH] [--no-anchor]
    python -m chalicelib.governance.audit anchor [--max-lag N] [--first] [--dry-run]
    python -m chalicelib.governance.audit replay [--since ISO8601] [--policy VERSION|current] [--format text|json]
    python -m chalicelib.governance.audit explain DECISION_ID [--audience customer|regulator]
    python -m chalicelib.governance.audit shadow-report [--since ISO8601] [--format text|json]
    python -m chalicelib.governance.audit export --out FILE|s3://bucket/key [--since ISO8601]
    python -m chalicelib.governance.audit head

Exit codes: 0 success; 1 the check found a problem (broken chain, replay difference, unknown
decision); 2 the check could not run (bad arguments, missing policy version, unreadable store).

Why replay exists: the policy evaluator is pure, so every automated decision can be recomputed
from its recorded inputs and policy version. A difference means the code, the policy file or the
record changed. With ``--policy VERSION`` it previews a policy change: the output lists exactly
the past decisions that would have gone differently.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import IO, Iterable

from chalicelib.core.clock import outbound_time
from chalicelib.governance.decision_log import DecisionLog, DecisionRecord, build_decision_log, compose_explanation
from chalicelib.governance.audit_anchor import add_anchor_arguments, run_anchor
from chalicelib.governance.audit_verify import add_verify_arguments, run_verify
from chalicelib.fraud.replay import KIND as FRAUD_KIND, replay_fraud_action
from chalicelib.governance.policy import DecisionRequest, PolicyError, PolicyStore, reason_text

# ---- Replay ---------------------------------------------------------------------------------


@dataclass
class ReplayDiff:
    seq: int
    decision_id: str
    action: str
    policy_version: str
    recorded_outcome: str | None
    recorded_reasons: list[str]
    replayed_outcome: str
    replayed_reasons: list[str]
    note: str = ""


@dataclass
class ReplayReport:
    checked: int = 0
    skipped: int = 0
    differences: list[ReplayDiff] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences and not self.errors


def replay(
    decisions: Iterable[DecisionRecord], store: PolicyStore, policy_version: str | None = None
) -> ReplayReport:
    """Re-evaluate every decision that consulted the policy; ``policy_version`` overrides the recorded one."""
    report = ReplayReport()
    for d in decisions:
        if d.inputs.get("kind") == FRAUD_KIND and d.policy_version and d.policy_outcome:
            _replay_fraud(d, report)  # under its own (fraud-action) policy version, never --policy
            continue
        if not d.inputs or d.policy_version is None or d.policy_outcome is None:
            report.skipped += 1
            continue
        version = policy_version or d.policy_version
        try:
            policy = store.get(version)
        except PolicyError as exc:
            report.errors.append(f"seq={d.seq} id={d.decision_id}: {exc}")
            continue
        try:
            req = DecisionRequest.model_validate(d.inputs)
        except ValueError as exc:
            report.errors.append(f"seq={d.seq} id={d.decision_id}: recorded inputs no longer parse: {exc}")
            continue
        result = policy.evaluate(req)
        report.checked += 1
        note = ""
        if policy_version is None and d.policy_digest and d.policy_digest != policy.digest:
            note = f"policy file for version {version} changed since the decision (digest differs)"
        if result.outcome != d.policy_outcome or list(result.reasons) != list(d.policy_reasons) or note:
            report.differences.append(
                ReplayDiff(
                    d.seq, d.decision_id, d.action, policy.version, d.policy_outcome, list(d.policy_reasons),
                    result.outcome, list(result.reasons), note,
                )
            )
    return report


def _replay_fraud(d: DecisionRecord, report: ReplayReport) -> None:
    try:
        outcome, reasons, note = replay_fraud_action(d.inputs, d.policy_version)
    except (LookupError, ValueError, TypeError) as exc:
        report.errors.append(f"seq={d.seq} id={d.decision_id}: fraud decision cannot be re-run: {exc!r}")
        return
    report.checked += 1
    if outcome != d.policy_outcome or note:
        report.differences.append(ReplayDiff(d.seq, d.decision_id, d.action, d.policy_version, d.policy_outcome,
                                             list(d.inputs.get("rules_codes", [])), outcome, reasons, note))


# --------------------------------------------------------------------------------------------
# Explain
# --------------------------------------------------------------------------------------------

_NEXT_ALWAYS = (
    "You can ask for a member of our team to review any automated decision. If you are unhappy "
    "with the outcome you can complain to us, and then to the financial ombudsman."
)


def _who(d: DecisionRecord, audience: str) -> str:
    if d.actor == "assistant":
        who = "our automated assistant"
    elif d.actor.startswith("agent:"):
        who = "a member of our team" if audience == "customer" else f"human agent {d.actor.split(':', 1)[1]}"
    else:
        who = "our systems" if audience == "customer" else f"system ({d.actor})"
    return who


def explain(d: DecisionRecord, audience: str = "customer", *, store: PolicyStore | None = None,
            followups: list[DecisionRecord] | None = None, chain_status: str | None = None) -> str:
    """The text a customer (no scores, thresholds or internals) or a regulator (everything) reads."""
    when = d.at.astimezone(timezone.utc).strftime("%d %b %Y, %H:%M UTC")
    explanation = d.explanation or compose_explanation(d.action, d.outcome, d.reasons)
    lines: list[str] = []
    if audience == "customer":
        reasons = [reason_text(r) for r in d.reasons]
        why = list(dict.fromkeys(t.customer for t in reasons if t.customer))
        nxt = list(dict.fromkeys(t.next_step for t in reasons if t.next_step))
        lines += [
            f"Reference: {d.decision_id}",
            f"Date: {when}",
            f"What we decided: {compose_explanation(d.action, d.outcome, [])}",
            "Why: " + (" ".join(why) if why else "—"),
            f"Decided by: {_who(d, audience)}"
            + (f", under our published decision policy (version {d.policy_version})." if d.policy_version else "."),
            "What you can do next: " + " ".join(nxt + [_NEXT_ALWAYS]),
        ]
        for f in followups or []:
            lines.append(f"Update {f.at.astimezone(timezone.utc):%d %b %Y}: {f.explanation}")
        return "\n".join(lines)

    policy = None
    req = d.request()
    if store is not None and d.policy_version:
        try:
            policy = store.get(d.policy_version)
        except PolicyError as exc:
            lines.append(f"WARNING: policy version {d.policy_version} unavailable: {exc}")

    def detail(code: str) -> str:
        if policy is not None and req is not None:
            return policy.regulator_detail(code, req)
        return reason_text(code).regulator

    lines += [
        f"Decision {d.decision_id} (log sequence {d.seq})",
        f"Time: {outbound_time(d.at)}",
        f"Decided by: {_who(d, audience)}; channel {d.channel}; action {d.action}"
        + (f"; capability {d.capability} (control mode {d.mode}{', SHADOW: not acted on' if d.shadow else ''})" if d.capability else ""),
        f"Customer: pseudonymous reference {d.customer_ref or '—'} (personal data held separately; erasable)",
        f"Policy: version {d.policy_version or '—'}"
        + (f" (file digest sha256:{d.policy_digest[:16]}…)" if d.policy_digest else ""),
    ]
    if d.policy_outcome is not None:
        lines.append(f"Policy outcome: {d.policy_outcome.upper()}")
        for code in d.policy_reasons:
            lines.append(f"  - {code}: {detail(code)}")
    lines.append(f"Final outcome: {d.outcome.upper()} (acted on by the assistant: {'yes' if d.acted else 'no'})")
    for code in d.reasons:
        if code not in d.policy_reasons:
            lines.append(f"  - {code}: {detail(code)}")
    if d.inputs:
        lines.append("Inputs (redacted facts): " + json.dumps(d.inputs, sort_keys=True))
    if d.models:
        lines.append("Models: " + ", ".join(f"{k} {v}" for k, v in sorted(d.models.items())))
    if d.scores:
        lines.append("Scores: " + ", ".join(f"{k}={v}" for k, v in sorted(d.scores.items())))
    if d.tier:
        lines.append(f"Tier: {d.tier}")
    lines.append(f"Cost: ${d.cost_usd:.6f}")
    if d.related_to:
        lines.append(f"Follows decision: {d.related_to}")
    for f in followups or []:
        lines.append(f"Followed by: {f.decision_id} at {outbound_time(f.at)} by {f.actor}: {f.outcome} {f.reasons}")
    lines.append(f"Customer-facing explanation: {explanation}")
    lines.append(f"Record hash: {d.hash} (previous {d.prev_hash[:16]}…)")
    if chain_status:
        lines.append(f"Chain: {chain_status}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Shadow report
# --------------------------------------------------------------------------------------------


@dataclass
class ShadowReport:
    shadow_decisions: int = 0
    resolved: int = 0
    agreed: int = 0
    by_capability: dict[str, dict[str, int]] = field(default_factory=dict)
    disagreements: list[dict] = field(default_factory=list)

    @property
    def agreement_rate(self) -> float | None:
        return self.agreed / self.resolved if self.resolved else None


def shadow_report(decisions: Iterable[DecisionRecord]) -> ShadowReport:
    """Compare what shadow mode would have done with what actually happened.

    The actual outcome of a shadow decision is the latest later decision that names it in
    ``related_to`` (typically an agent resolving the escalation). Unresolved ones are counted but
    not scored.
    """
    shadows: dict[str, DecisionRecord] = {}
    actual: dict[str, DecisionRecord] = {}
    for d in decisions:
        if d.shadow:
            shadows[d.decision_id] = d
        if d.related_to:
            actual[d.related_to] = d  # later records win: the log is in sequence order
    rep = ShadowReport()
    per = defaultdict(Counter)
    for sid, s in shadows.items():
        cap = s.capability or s.action
        rep.shadow_decisions += 1
        per[cap]["shadow"] += 1
        a = actual.get(sid)
        if a is None:
            continue
        rep.resolved += 1
        per[cap]["resolved"] += 1
        if a.outcome == s.policy_outcome:
            rep.agreed += 1
            per[cap]["agreed"] += 1
        else:
            rep.disagreements.append(
                {"shadow_id": sid, "capability": cap, "shadow": s.policy_outcome, "actual": a.outcome, "actual_id": a.decision_id}
            )
    rep.by_capability = {k: dict(v) for k, v in sorted(per.items())}
    return rep


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------


def _parse_since(value: str | None) -> datetime | None:
    if not value:
        return None
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m chalicelib.governance.audit", description="Audit the decision log.")
    sub = p.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("verify", help="check the hash chain")
    add_verify_arguments(v)
    r = sub.add_parser("replay", help="re-evaluate recorded decisions")
    r.add_argument("--since")
    r.add_argument("--policy", help="policy version to replay with ('current' for the active one)")
    r.add_argument("--format", choices=["text", "json"], default="text")
    e = sub.add_parser("explain", help="explain one decision")
    e.add_argument("decision_id")
    e.add_argument("--audience", choices=["customer", "regulator"], default="customer")
    s = sub.add_parser("shadow-report", help="agreement of shadow decisions with actual outcomes")
    s.add_argument("--since")
    s.add_argument("--format", choices=["text", "json"], default="text")
    x = sub.add_parser("export", help="export the log as JSON lines (file or s3://bucket/key)")
    x.add_argument("--out", required=True)
    x.add_argument("--since")
    sub.add_parser("head", help="print the head sequence and hash (to anchor elsewhere)")
    add_anchor_arguments(sub.add_parser("anchor", help="verify the chain, then move the head anchor to it"))
    return p


def main(argv: list[str] | None = None, *, log: DecisionLog | None = None,
         policy_store: PolicyStore | None = None, out: IO[str] | None = None, s3_client=None) -> int:
    out = out or sys.stdout
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) and 2

    def say(text: str = "") -> None:
        out.write(text + "\n")

    if args.cmd == "verify":
        return run_verify(args, lambda: log or build_decision_log(), say)
    if args.cmd == "anchor":
        return run_anchor(args, lambda: log or build_decision_log(), say)
    try:
        log = log or build_decision_log()
    except Exception as exc:  # the store itself could not be read
        say(f"ERROR: cannot open the decision log: {exc}")
        return 2

    if args.cmd == "head":
        head = log.head()
        say(f"{head[0]} {head[1]}" if head else "0 (empty log)")
        return 0

    if args.cmd == "replay":
        store = policy_store = policy_store or PolicyStore.from_env()
        version = args.policy
        if version == "current":
            try:
                version = store.current().version
            except PolicyError as exc:
                say(f"ERROR: {exc}")
                return 2
        report = replay(log.iter_decisions(_parse_since(args.since)), store, version)
        if args.format == "json":
            say(json.dumps({"checked": report.checked, "skipped": report.skipped, "errors": report.errors,
                            "differences": [asdict(d) for d in report.differences]}, sort_keys=True))
        else:
            for d in report.differences:
                say(
                    f"DIFF seq={d.seq} id={d.decision_id} action={d.action}: recorded "
                    f"{d.recorded_outcome} {d.recorded_reasons} -> replayed {d.replayed_outcome} "
                    f"{d.replayed_reasons} (policy {d.policy_version})" + (f" [{d.note}]" if d.note else "")
                )
            for err in report.errors:
                say(f"ERROR {err}")
            say(f"replayed {report.checked} decisions, {len(report.differences)} differences, "
                f"{report.skipped} without policy inputs skipped, {len(report.errors)} errors")
        if report.errors:
            return 2
        return 1 if report.differences else 0

    if args.cmd == "explain":
        d = log.get(args.decision_id)
        if d is None:
            say(f"unknown decision {args.decision_id}")
            return 1
        followups = [f for f in log.iter_decisions() if f.related_to == d.decision_id]
        chain = None
        if args.audience == "regulator":
            vr = log.verify()
            chain = (f"intact ({vr.count} records, head {vr.head_hash[:16]}…)" if vr.ok
                     else f"BROKEN at seq {vr.first_bad.seq} ({vr.first_bad.problem})")
        say(explain(d, args.audience, store=policy_store or PolicyStore.from_env(), followups=followups, chain_status=chain))
        return 0

    if args.cmd == "shadow-report":
        rep = shadow_report(log.iter_decisions(_parse_since(args.since)))
        if args.format == "json":
            say(json.dumps({**asdict(rep), "agreement_rate": rep.agreement_rate}, sort_keys=True))
        else:
            rate = "n/a" if rep.agreement_rate is None else f"{rep.agreement_rate:.1%}"
            say(f"shadow decisions {rep.shadow_decisions}, resolved {rep.resolved}, agreed {rep.agreed}, agreement {rate}")
            for cap, c in rep.by_capability.items():
                r = c.get("resolved", 0)
                say(f"  {cap}: shadow {c.get('shadow', 0)}, resolved {r}, agreed {c.get('agreed', 0)}"
                    + (f" ({c.get('agreed', 0) / r:.1%})" if r else ""))
            for dis in rep.disagreements:
                say(f"  disagreement {dis['shadow_id']} ({dis['capability']}): shadow {dis['shadow']} vs actual {dis['actual']}")
        return 0

    if args.cmd == "export":
        since = _parse_since(args.since)
        if args.out.startswith("s3://"):
            bucket, _, key = args.out[5:].partition("/")
            if s3_client is None:

                from chalicelib.core.settings import get_settings

                from chalicelib.core.aws import client as aws_client
                s3_client = aws_client("s3", get_settings(), timeout_s=30)
            n = log.export_to_s3(s3_client, bucket, key, since)
        else:
            with open(args.out, "w", encoding="utf-8") as fp:
                n = log.export_jsonl(fp, since)
        say(f"exported {n} decisions to {args.out}")
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
