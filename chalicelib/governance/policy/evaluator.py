"""One loaded policy version and its pure evaluator: same request + same policy → same outcome.

Why pure (no clock, no I/O): replay re-runs a decision years later under the version it was made
under and must get the same answer; every fact comes in the :class:`DecisionRequest`.
"""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import yaml
from pydantic import ValidationError

from chalicelib.governance.policy.document import (
    DISPUTE_REASONS, DecisionRequest, Outcome, PolicyDocument, PolicyError, PolicyOutcome)
from chalicelib.governance.policy.reasons import R, reason_class, reason_text

# A policy file is named after its version; a mismatch is refused (see ``Policy.load``).
POLICY_FILENAME_RE = re.compile(r"^policy-(?P<version>.+)\.ya?ml$")


class Policy:
    """One loaded, validated policy version. Immutable; evaluation is pure."""

    def __init__(self, document: PolicyDocument, digest: str, source: str = "<memory>"):
        self.document = document
        self.digest = digest
        self.source = source

    @property
    def version(self) -> str:
        return self.document.version

    def __repr__(self) -> str:
        return f"Policy(version={self.version!r}, source={self.source!r})"

    @classmethod
    def from_text(cls, text: str | bytes, source: str = "<memory>") -> "Policy":
        raw = text.encode("utf-8") if isinstance(text, str) else text
        try:
            data = yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            raise PolicyError(f"policy {source}: not valid YAML: {exc}") from exc
        if not isinstance(data, dict):
            raise PolicyError(f"policy {source}: expected a mapping at the top level, got {type(data).__name__}")
        try:
            document = PolicyDocument.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()
            )
            raise PolicyError(f"policy {source}: {exc.error_count()} schema error(s): {problems}") from exc
        return cls(document, hashlib.sha256(raw).hexdigest(), source)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Policy":
        """Load and validate a policy file; raises :class:`PolicyError` with every problem listed."""
        p = Path(path)
        try:
            raw = p.read_bytes()
        except OSError as exc:
            raise PolicyError(f"policy {p}: cannot read: {exc}") from exc
        policy = cls.from_text(raw, str(p))
        m = POLICY_FILENAME_RE.match(p.name)
        if m and m.group("version") != policy.version:
            raise PolicyError(
                f"policy {p}: file name says version {m.group('version')!r} but the file says {policy.version!r}"
            )
        return policy

    # ---- evaluation ---------------------------------------------------------------------

    def evaluate(self, req: DecisionRequest) -> PolicyOutcome:
        """Allow, escalate or deny ``req``, with every triggered reason (see module docstring)."""
        doc = self.document
        reasons: list[str] = []

        def add(code: str) -> None:
            if code not in reasons:
                reasons.append(code)

        # Markers that put a human in charge whatever the action.
        if req.legal_threat and doc.escalate_on.legal_threat:
            add(R.LEGAL_THREAT)
        if req.regulator_mention and doc.escalate_on.regulator_mention:
            add(R.REGULATOR_MENTION)
        if req.vulnerable and doc.escalate_on.vulnerable_customer:
            add(R.VULNERABLE_CUSTOMER)

        rule = doc.actions.get(req.action)
        if rule is None:
            add(R.ACTION_NOT_IN_POLICY)
        elif not rule.enabled:
            add(R.ACTION_DISABLED)

        if req.language is not None and req.language.split("-")[0] not in doc.supported_languages:
            add(R.UNSUPPORTED_LANGUAGE)
        if (
            req.classifier_confidence is not None
            and req.classifier_confidence < doc.classifier_confidence_floor.for_action(req.action)
        ):
            add(R.LOW_CLASSIFIER_CONFIDENCE)

        if rule is not None:
            if req.action == "file_dispute":
                self._file_dispute(req, add)
            elif req.action == "release_hold":
                self._release_hold(req, add)
            elif req.action == "auto_reply_email":
                self._auto_reply(req, add)

        return PolicyOutcome(outcome=_resolve(reasons), reasons=reasons or [R.WITHIN_POLICY], policy_version=self.version)

    def _file_dispute(self, req: DecisionRequest, add) -> None:
        rules = self.document.disputes
        # Eligibility first: these are refusals no human could overturn.
        if req.already_disputed:
            add(R.ALREADY_DISPUTED)
        if req.txn_status is None:
            add(f"{R.MISSING_FACT}:txn_status")
        elif req.txn_status not in rules.disputable_statuses:
            add(R.PENDING_CHARGE if req.txn_status == "pending" else R.TXN_STATUS_NOT_DISPUTABLE)
        if req.txn_age_days is None:
            add(f"{R.MISSING_FACT}:txn_age_days")
        elif req.txn_age_days > rules.window_days:
            add(R.OUT_OF_WINDOW)

        if req.category is None:
            add(f"{R.MISSING_FACT}:category")
        if req.amount_minor is None:
            add(f"{R.MISSING_FACT}:amount_minor")
        if req.currency is None:
            add(f"{R.MISSING_FACT}:currency")
        limits = rules.max_auto_amount_minor.get(req.currency) if req.currency else None
        if req.currency is not None and limits is None:
            add(R.CURRENCY_NOT_IN_POLICY)
        if req.category is not None and req.category not in DISPUTE_REASONS:
            add(R.REASON_NOT_IN_POLICY)
        if limits is not None and req.category in limits and req.amount_minor is not None:
            if req.amount_minor > limits[req.category]:
                add(R.AMOUNT_OVER_LIMIT)

        if req.customer_dispute_count_window is None:
            add(f"{R.MISSING_FACT}:customer_dispute_count_window")
        elif req.customer_dispute_count_window + 1 > rules.repeat.max_disputes:
            add(R.REPEAT_DISPUTES)

    def _release_hold(self, req: DecisionRequest, add) -> None:
        rules = self.document.hold_release
        if not req.reason_codes:
            add(f"{R.MISSING_FACT}:reason_codes")
        elif any(code not in rules.releasable_reason_codes for code in req.reason_codes):
            add(R.HOLD_REASON_NOT_RELEASABLE)
        if req.risk_score is None:
            add(f"{R.MISSING_FACT}:risk_score")
        elif req.risk_score >= rules.max_risk_score:
            add(R.RISK_ABOVE_LIMIT)
        if rules.require_step_up and not req.step_up_verified:
            add(R.STEP_UP_REQUIRED)

    def _auto_reply(self, req: DecisionRequest, add) -> None:
        if req.category is None:
            add(f"{R.MISSING_FACT}:category")
        elif req.category not in self.document.auto_reply_email.categories:
            add(R.CATEGORY_NOT_AUTO_REPLIABLE)

    # ---- explanation for regulators (thresholds allowed) ----------------------------------

    def regulator_detail(self, code: str, req: DecisionRequest) -> str:
        """The rule behind a reason with the facts and thresholds involved (never for customers)."""
        doc = self.document
        if code == R.AMOUNT_OVER_LIMIT and req.currency and req.category:
            limit = doc.disputes.max_auto_amount_minor.get(req.currency, {}).get(req.category)
            return f"amount {req.amount_minor} {req.currency} minor units > limit {limit} for reason {req.category}"
        if code == R.RISK_ABOVE_LIMIT:
            return f"risk score {req.risk_score} >= maximum {doc.hold_release.max_risk_score}"
        if code == R.LOW_CLASSIFIER_CONFIDENCE:
            return (
                f"classifier confidence {req.classifier_confidence} < floor "
                f"{doc.classifier_confidence_floor.for_action(req.action)} for {req.action}"
            )
        if code == R.REPEAT_DISPUTES:
            return (
                f"{req.customer_dispute_count_window} prior + this one > {doc.disputes.repeat.max_disputes} "
                f"disputes in {doc.disputes.repeat.window_days} days"
            )
        if code == R.OUT_OF_WINDOW:
            return f"transaction age {req.txn_age_days} days > window {doc.disputes.window_days} days"
        if code == R.UNSUPPORTED_LANGUAGE:
            return f"language {req.language!r} not in {doc.supported_languages}"
        if code == R.HOLD_REASON_NOT_RELEASABLE:
            bad = [c for c in req.reason_codes if c not in doc.hold_release.releasable_reason_codes]
            return f"reason codes {bad} not in releasable list {doc.hold_release.releasable_reason_codes}"
        if code in (R.PENDING_CHARGE, R.TXN_STATUS_NOT_DISPUTABLE):
            return f"transaction status {req.txn_status!r} not in {doc.disputes.disputable_statuses}"
        if code == R.CATEGORY_NOT_AUTO_REPLIABLE:
            return f"category {req.category!r} not in {doc.auto_reply_email.categories}"
        return reason_text(code).regulator


def _resolve(reasons: list[str]) -> Outcome:
    classes = {reason_class(r) for r in reasons}
    if "protected" in classes:
        return "escalate"
    if "ineligible" in classes:
        return "deny"
    if "escalate" in classes:
        return "escalate"
    if "conditional" in classes:
        return "deny"
    return "allow"

