"""Decision limits as data: a versioned YAML policy and the one evaluator every channel consults.

Why data and not code: what the assistant may decide alone is a business and compliance choice
that changes more often than the code, must be reviewable by non-engineers, and must be
reproducible years later. Every recorded decision carries the policy version it was made under,
and ``python -m chalicelib.governance.audit replay`` re-evaluates it with exactly that version, so versions are
never edited in place, only added (``chalicelib/governance/policies/policy-<version>.yaml``).

The evaluator is pure: same request + same policy → same outcome, no clock, no I/O. Facts the
evaluator needs (transaction age, prior dispute count, step-up state ...) are gathered by the caller
and passed in :class:`DecisionRequest`, which is also what the decision log stores as the
decision's inputs.

Outcome precedence (most restrictive first), so that mixed signals resolve the same way everywhere:

1. protected escalation (legal threat, regulator mention, vulnerable customer): a human handles
   it even when the request would be refused, because a refusal by a bot is the wrong answer to
   those customers;
2. ineligibility denial (out of window, pending charge, already disputed ...): no human could
   grant it either;
3. escalation (over limit, repeat disputes, low confidence, unsupported language ...);
4. conditional denial (``step_up_required``: allowed once the customer verifies);
5. allow.
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from chalicelib.payments.fraud_codes import REASON_CODES
from chalicelib.core.models import DisputeReason

log = logging.getLogger(__name__)

POLICY_DIR = Path(__file__).resolve().parent / "policies"
_FILENAME_RE = re.compile(r"^policy-(?P<version>.+)\.ya?ml$")

Outcome = Literal["allow", "escalate", "deny"]
Channel = Literal["chat", "email", "agent", "system"]

DISPUTE_REASONS: tuple[str, ...] = tuple(r.value for r in DisputeReason)


class PolicyError(Exception):
    """A policy file could not be loaded (unreadable, not YAML, or fails the schema)."""


class UnknownPolicyVersion(PolicyError):
    """No policy file with the requested version exists: replay cannot be trusted without it."""


# --------------------------------------------------------------------------------------------
# Reason codes: machine-readable, stable (they are stored in the decision log forever).
# --------------------------------------------------------------------------------------------


class R:
    """Reason codes emitted by the evaluator (``missing_fact:<field>`` is built dynamically)."""

    LEGAL_THREAT = "legal_threat"
    REGULATOR_MENTION = "regulator_mention"
    VULNERABLE_CUSTOMER = "vulnerable_customer"

    OUT_OF_WINDOW = "out_of_window"
    PENDING_CHARGE = "pending_charge"
    ALREADY_DISPUTED = "already_disputed"
    TXN_STATUS_NOT_DISPUTABLE = "txn_status_not_disputable"

    ACTION_NOT_IN_POLICY = "action_not_in_policy"
    ACTION_DISABLED = "action_disabled"
    AMOUNT_OVER_LIMIT = "amount_over_limit"
    CURRENCY_NOT_IN_POLICY = "currency_not_in_policy"
    REASON_NOT_IN_POLICY = "reason_not_in_policy"
    REPEAT_DISPUTES = "repeat_disputes"
    LOW_CLASSIFIER_CONFIDENCE = "low_classifier_confidence"
    UNSUPPORTED_LANGUAGE = "unsupported_language"
    RISK_ABOVE_LIMIT = "risk_above_limit"
    HOLD_REASON_NOT_RELEASABLE = "hold_reason_not_releasable"
    CATEGORY_NOT_AUTO_REPLIABLE = "category_not_auto_repliable"
    MISSING_FACT = "missing_fact"

    STEP_UP_REQUIRED = "step_up_required"

    WITHIN_POLICY = "within_policy"


_PROTECTED = {R.LEGAL_THREAT, R.REGULATOR_MENTION, R.VULNERABLE_CUSTOMER}
_INELIGIBLE = {R.OUT_OF_WINDOW, R.PENDING_CHARGE, R.ALREADY_DISPUTED, R.TXN_STATUS_NOT_DISPUTABLE}
_CONDITIONAL_DENY = {R.STEP_UP_REQUIRED}


def reason_class(code: str) -> str:
    """Which precedence class a reason belongs to: protected | ineligible | escalate | conditional."""
    if code in _PROTECTED:
        return "protected"
    if code in _INELIGIBLE:
        return "ineligible"
    if code in _CONDITIONAL_DENY:
        return "conditional"
    if code == R.WITHIN_POLICY:
        return "allow"
    return "escalate"


@dataclass(frozen=True)
class ReasonText:
    """Wording for one reason code. ``customer`` never names scores, thresholds or rules."""

    customer: str
    regulator: str
    next_step: str


REASON_TEXTS: dict[str, ReasonText] = {
    R.LEGAL_THREAT: ReasonText(
        "Your message mentions legal action, so a specialist will handle it personally.",
        "Customer message flagged as containing a legal threat; policy requires human handling.",
        "A specialist will contact you; you do not need to do anything now.",
    ),
    R.REGULATOR_MENTION: ReasonText(
        "Your message mentions a regulator or ombudsman, so a specialist will handle it personally.",
        "Customer mentioned a regulator or ombudsman; policy requires human handling.",
        "A specialist will contact you. You keep the right to refer your complaint to the ombudsman.",
    ),
    R.VULNERABLE_CUSTOMER: ReasonText(
        "We want to make sure you get personal support, so a member of our team will look after this.",
        "Customer carries a vulnerability marker; policy requires human handling.",
        "A member of our team will contact you.",
    ),
    R.OUT_OF_WINDOW: ReasonText(
        "This payment is too old to dispute through us: card rules only allow disputes for a limited time after a payment.",
        "Transaction older than the dispute window of the policy.",
        "You can still contact the merchant directly, or ask to speak to an agent if you think this is wrong.",
    ),
    R.PENDING_CHARGE: ReasonText(
        "This payment is still pending, so it cannot be disputed yet. Pending payments often change or disappear when they settle.",
        "Transaction status is pending; disputes are accepted only for posted transactions.",
        "Wait until the payment has posted (usually a few days); if it is still wrong then, you can dispute it.",
    ),
    R.ALREADY_DISPUTED: ReasonText(
        "This payment is already being disputed, so we have not opened a second case.",
        "An existing dispute case covers this transaction.",
        "You can ask for the status of your existing dispute at any time.",
    ),
    R.TXN_STATUS_NOT_DISPUTABLE: ReasonText(
        "This payment did not go through (or was already reversed), so there is nothing to dispute.",
        "Transaction status is not disputable under the policy (only posted transactions are).",
        "If money has left your account anyway, ask to speak to an agent.",
    ),
    R.ACTION_NOT_IN_POLICY: ReasonText(
        "This needs a member of our team.",
        "The requested action is not covered by the policy; unknown actions always go to a human.",
        "A member of our team will pick this up.",
    ),
    R.ACTION_DISABLED: ReasonText(
        "This needs a member of our team.",
        "The policy disables automated handling of this action.",
        "A member of our team will pick this up.",
    ),
    R.AMOUNT_OVER_LIMIT: ReasonText(
        "Because of the amount involved, a member of our team will review this personally.",
        "Disputed amount exceeds the policy's automated filing limit for this reason and currency.",
        "A member of our team will review it, usually within one business day.",
    ),
    R.CURRENCY_NOT_IN_POLICY: ReasonText(
        "Payments in this currency are reviewed by a member of our team.",
        "The policy sets no automated limit for this currency.",
        "A member of our team will review it.",
    ),
    R.REASON_NOT_IN_POLICY: ReasonText(
        "This kind of problem is reviewed by a member of our team.",
        "The dispute reason has no automated limit in the policy.",
        "A member of our team will review it.",
    ),
    R.REPEAT_DISPUTES: ReasonText(
        "A member of our team will review this together with your other recent disputes.",
        "Customer's dispute count within the policy's repeat window exceeds the automated maximum.",
        "A member of our team will review it, usually within one business day.",
    ),
    R.LOW_CLASSIFIER_CONFIDENCE: ReasonText(
        "We want to be sure we understood you correctly, so a member of our team will read your message.",
        "Classifier confidence below the policy floor for this action.",
        "A member of our team will reply.",
    ),
    R.UNSUPPORTED_LANGUAGE: ReasonText(
        "A member of our team will reply to you.",
        "Message language is not among the policy's supported languages.",
        "A member of our team will reply.",
    ),
    R.RISK_ABOVE_LIMIT: ReasonText(
        "For your security, a member of our fraud team needs to review this payment.",
        "Fraud risk score at or above the policy's maximum for automated release.",
        "Our fraud team will review it; you may be contacted to confirm the payment.",
    ),
    R.HOLD_REASON_NOT_RELEASABLE: ReasonText(
        "This kind of hold can only be lifted by a member of our team.",
        "At least one hold reason code is not releasable by the assistant under the policy.",
        "A member of our team will review it.",
    ),
    R.CATEGORY_NOT_AUTO_REPLIABLE: ReasonText(
        "A member of our team will reply to your message.",
        "Message category is not in the policy's list of automatically answerable categories.",
        "A member of our team will reply.",
    ),
    R.MISSING_FACT: ReasonText(
        "We need a member of our team to look at this.",
        "A fact the policy needs was not available, so the decision defaulted to a human.",
        "A member of our team will pick this up.",
    ),
    R.STEP_UP_REQUIRED: ReasonText(
        "We need to confirm it is really you before we can do this.",
        "Policy requires step-up verification before this action.",
        "Complete the quick identity check and we can continue.",
    ),
    # Set by controls and breakers (chalicelib.governance.controls, chalicelib.governance.cost), not by the evaluator.
    "control_off": ReasonText(
        "A member of our team will handle this.",
        "Automated handling of this capability was switched off by an operator (kill switch).",
        "A member of our team will pick this up.",
    ),
    "shadow_mode": ReasonText(
        "A member of our team will handle this.",
        "Capability in shadow mode: the automated decision was logged but not acted on; a human decides.",
        "A member of our team will pick this up.",
    ),
    "breaker_open": ReasonText(
        "A member of our team will handle this.",
        "An external model tier was unavailable (circuit breaker open); the deterministic fallback applied.",
        "",
    ),
    "budget_exhausted": ReasonText(
        "A member of our team will handle this.",
        "The hourly spending ceiling for an external model tier was reached; the deterministic fallback applied.",
        "",
    ),
    R.WITHIN_POLICY: ReasonText(
        "Your request met the conditions for us to handle it straight away.",
        "All policy conditions for automated handling were met.",
        "",
    ),
}


def reason_text(code: str) -> ReasonText:
    """Wording for a reason code; ``missing_fact:<field>`` shares one entry."""
    base = code.split(":", 1)[0]
    return REASON_TEXTS.get(
        base,
        ReasonText("A member of our team will look at this.", f"Reason code {code!r}.", "A member of our team will pick this up."),
    )


# --------------------------------------------------------------------------------------------
# The request: typed facts, already redacted (no free text, no customer id).
# --------------------------------------------------------------------------------------------


class DecisionRequest(BaseModel):
    """What the evaluator sees, and exactly what the decision log stores as inputs.

    Only facts, never free text or identifiers of the customer: the log keeps these forever.
    ``customer_dispute_count_window`` counts the customer's disputes in the policy's repeat window
    *before* this one (the evaluator adds the one being filed).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: str = Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_:.-]*$")
    channel: Channel = "chat"
    category: str | None = Field(default=None, max_length=64)
    amount_minor: int | None = Field(default=None, ge=0)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    risk_score: float | None = Field(default=None, ge=0, le=1)
    reason_codes: tuple[str, ...] = ()
    step_up_verified: bool = False
    customer_dispute_count_window: int | None = Field(default=None, ge=0)
    legal_threat: bool = False
    regulator_mention: bool = False
    vulnerable: bool = False
    classifier_confidence: float | None = Field(default=None, ge=0, le=1)
    language: str | None = Field(default=None, max_length=16)
    txn_age_days: int | None = Field(default=None, ge=0)
    txn_status: str | None = Field(default=None, max_length=32)
    already_disputed: bool = False

    @field_validator("language")
    @classmethod
    def _lower_language(cls, v: str | None) -> str | None:
        return v.lower() if v else v


class PolicyOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    outcome: Outcome
    reasons: list[str]
    policy_version: str


# --------------------------------------------------------------------------------------------
# The policy schema (extra="forbid" everywhere: a misspelt key is an error, not a silent default).
# --------------------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ConfidenceFloor(_Strict):
    default: float = Field(ge=0, le=1)
    by_action: dict[str, float] = Field(default_factory=dict)

    @field_validator("by_action")
    @classmethod
    def _bounded(cls, v: dict[str, float]) -> dict[str, float]:
        for action, floor in v.items():
            if not 0 <= floor <= 1:
                raise ValueError(f"confidence floor for {action!r} must be within [0, 1], got {floor}")
        return v

    def for_action(self, action: str) -> float:
        return self.by_action.get(action, self.default)


class EscalateOn(_Strict):
    legal_threat: bool = True
    regulator_mention: bool = True
    vulnerable_customer: bool = True


class ActionRule(_Strict):
    enabled: bool = True


class RepeatRule(_Strict):
    window_days: int = Field(gt=0)
    max_disputes: int = Field(ge=0)


class DisputeRules(_Strict):
    window_days: int = Field(gt=0)
    disputable_statuses: list[str] = Field(min_length=1)
    max_auto_amount_minor: dict[str, dict[str, int]]
    repeat: RepeatRule

    @field_validator("max_auto_amount_minor")
    @classmethod
    def _every_reason_has_a_limit(cls, v: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
        if not v:
            raise ValueError("at least one currency must have limits")
        for currency, limits in v.items():
            if not re.fullmatch(r"[A-Z]{3}", currency):
                raise ValueError(f"currency {currency!r} is not an ISO 4217 code")
            unknown = sorted(set(limits) - set(DISPUTE_REASONS))
            if unknown:
                raise ValueError(f"{currency}: unknown dispute reasons {unknown} (known: {list(DISPUTE_REASONS)})")
            missing = sorted(set(DISPUTE_REASONS) - set(limits))
            if missing:
                raise ValueError(f"{currency}: no limit for dispute reasons {missing}")
            negative = sorted(r for r, amount in limits.items() if amount < 0)
            if negative:
                raise ValueError(f"{currency}: negative limits for {negative}")
        return v


class HoldReleaseRules(_Strict):
    require_step_up: bool = True
    max_risk_score: float = Field(ge=0, le=1)
    releasable_reason_codes: list[str]

    @field_validator("releasable_reason_codes")
    @classmethod
    def _catalogue_allows(cls, v: list[str]) -> list[str]:
        for code in v:
            rc = REASON_CODES.get(code)
            if rc is None:
                raise ValueError(f"unknown hold reason code {code!r} (see chalicelib/payments/fraud_codes.py)")
            if not rc.step_up_releasable:
                raise ValueError(f"hold reason code {code!r} is not step-up releasable in the catalogue")
        return v


class AutoReplyRules(_Strict):
    categories: list[str] = Field(default_factory=list)


class PolicyDocument(_Strict):
    version: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    effective_from: date
    description: str = ""
    supported_languages: list[str] = Field(min_length=1)
    classifier_confidence_floor: ConfidenceFloor
    escalate_on: EscalateOn = Field(default_factory=EscalateOn)
    actions: dict[str, ActionRule]
    disputes: DisputeRules
    hold_release: HoldReleaseRules
    auto_reply_email: AutoReplyRules = Field(default_factory=AutoReplyRules)

    @field_validator("version", mode="before")
    @classmethod
    def _version_is_text(cls, v: object) -> object:
        # YAML reads an unquoted 2026-11-01 as a date; accept it but store the text form.
        return v.isoformat() if isinstance(v, date) else v

    @field_validator("supported_languages")
    @classmethod
    def _lower(cls, v: list[str]) -> list[str]:
        return [x.lower() for x in v]

    @model_validator(mode="after")
    def _known_actions(self) -> "PolicyDocument":
        for action in self.classifier_confidence_floor.by_action:
            if action not in self.actions:
                raise ValueError(f"classifier_confidence_floor.by_action names unknown action {action!r}")
        return self


# --------------------------------------------------------------------------------------------
# The policy and its evaluator.
# --------------------------------------------------------------------------------------------


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
        m = _FILENAME_RE.match(p.name)
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


# --------------------------------------------------------------------------------------------
# The store: the active policy plus every version on disk, for replay.
# --------------------------------------------------------------------------------------------


class PolicySettings(BaseModel):
    """Where policies live. ``DA_POLICY_PATH`` pins the active file; ``DA_POLICY_DIR`` holds all versions."""

    path: Path | None = None
    directory: Path = POLICY_DIR

    @classmethod
    def from_env(cls) -> "PolicySettings":
        path = os.environ.get("DA_POLICY_PATH") or None
        directory = os.environ.get("DA_POLICY_DIR") or None
        return cls(path=Path(path) if path else None, directory=Path(directory) if directory else POLICY_DIR)


class PolicyStore:
    """The active policy (reloadable without a deploy) and any past version by name.

    Without a pinned path the active policy is the newest file in the directory by
    ``effective_from`` (then version). A failed reload keeps the last good policy active and
    raises, so the operator sees why the new file was refused.
    """

    def __init__(self, path: str | os.PathLike | None = None, directory: str | os.PathLike | None = None):
        self.path = Path(path) if path else None
        self.directory = Path(directory) if directory else POLICY_DIR
        self._current: Policy | None = None
        self._by_version: dict[str, Policy] = {}
        self._lock = threading.Lock()
        self.last_error: PolicyError | None = None

    @classmethod
    def from_env(cls) -> "PolicyStore":
        s = PolicySettings.from_env()
        return cls(path=s.path, directory=s.directory)

    def _dirs(self) -> list[Path]:
        dirs = [self.directory]
        if self.path is not None and self.path.parent not in dirs:
            dirs.append(self.path.parent)
        return dirs

    def _candidates(self) -> list[Path]:
        files: list[Path] = []
        for d in self._dirs():
            if d.is_dir():
                files.extend(sorted(p for p in d.iterdir() if p.suffix in (".yaml", ".yml")))
        return files

    def _load_newest(self) -> Policy:
        valid: list[Policy] = []
        errors: list[str] = []
        for p in self._candidates():
            try:
                valid.append(Policy.load(p))
            except PolicyError as exc:
                errors.append(str(exc))
                log.warning("skipping invalid policy file: %s", exc)
        if not valid:
            raise PolicyError(f"no valid policy in {[str(d) for d in self._dirs()]}: {errors or 'no files'}")
        return max(valid, key=lambda p: (p.document.effective_from, p.version))

    def reload(self) -> Policy:
        """Re-read the active policy. On error the last good policy stays active and PolicyError is raised."""
        with self._lock:
            try:
                policy = Policy.load(self.path) if self.path is not None else self._load_newest()
            except PolicyError as exc:
                self.last_error = exc
                if self._current is not None:
                    log.error("policy reload refused, keeping %s active: %s", self._current.version, exc)
                raise
            known = self._by_version.get(policy.version)
            if known is not None and known.digest != policy.digest:
                exc = PolicyError(
                    f"policy {policy.source}: version {policy.version!r} was already loaded with different "
                    "content; publish a new version instead of editing one in place"
                )
                self.last_error = exc
                raise exc
            self._by_version[policy.version] = policy
            self._current = policy
            self.last_error = None
            return policy

    def current(self) -> Policy:
        if self._current is None:
            return self.reload()
        return self._current

    def get(self, version: str) -> Policy:
        """The policy with exactly this version (for replay); raises UnknownPolicyVersion."""
        if version == "current":
            return self.current()
        hit = self._by_version.get(version)
        if hit is not None:
            return hit
        for p in self._candidates():
            m = _FILENAME_RE.match(p.name)
            if m and m.group("version") != version:
                continue
            try:
                policy = Policy.load(p)
            except PolicyError:
                continue
            if policy.version == version:
                with self._lock:
                    self._by_version.setdefault(version, policy)
                return self._by_version[version]
        raise UnknownPolicyVersion(f"policy version {version!r} not found in {[str(d) for d in self._dirs()]}")

    def put(self, policy: Policy, activate: bool = False) -> None:
        """Register an in-memory policy (tests, previews of a draft before it is published)."""
        with self._lock:
            self._by_version[policy.version] = policy
            if activate:
                self._current = policy

