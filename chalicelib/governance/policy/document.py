"""The evaluator's input (``DecisionRequest``), its output (``PolicyOutcome``) and the policy schema.

Why ``extra="forbid"`` everywhere: a misspelt key in a policy file must be an error at load time,
not a silent default that changes what the assistant may decide alone.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chalicelib.core.models import DisputeReason
from chalicelib.payments.fraud_codes import REASON_CODES

Outcome = Literal["allow", "escalate", "deny"]
Channel = Literal["chat", "email", "agent", "system"]

DISPUTE_REASONS: tuple[str, ...] = tuple(r.value for r in DisputeReason)


class PolicyError(Exception):
    """A policy file could not be loaded (unreadable, not YAML, or fails the schema)."""


class UnknownPolicyVersion(PolicyError):
    """No policy file with the requested version exists: replay cannot be trusted without it."""



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

