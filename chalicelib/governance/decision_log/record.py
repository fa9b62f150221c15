"""One decision as the log stores it (``DecisionRecord``; the dialog's step is ``intents.dialog.Decision``).

Why every field is here: replay re-evaluates ``inputs`` under ``policy_version`` and compares with
``policy_outcome``; explain reads ``reasons``; subject access reads ``customer_ref``. A field added
later changes the hash of new records only, so old records keep verifying.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.core.clock import utcnow
from chalicelib.core.ids import new_decision_id
from chalicelib.governance.decision_log.chain import GENESIS_HASH
from chalicelib.governance.policy import DecisionRequest


class DecisionRecord(BaseModel):
    """One decision, as stored. ``outcome``/``reasons`` are what happened after controls;
    ``policy_outcome``/``policy_reasons`` are what the policy said (the part replay re-checks)."""

    model_config = ConfigDict(extra="forbid")

    decision_id: str = Field(default_factory=new_decision_id, min_length=1, max_length=128)
    seq: int = 0
    at: datetime = Field(default_factory=utcnow)
    actor: str = Field(min_length=1)  # "assistant", "agent:<id>", "system"
    channel: str = "chat"
    action: str
    capability: str | None = None
    customer_ref: str | None = None
    subject: dict[str, str] = Field(default_factory=dict)  # e.g. {"txn_id": ..., "case_id": ...}
    inputs: dict[str, Any] = Field(default_factory=dict)
    policy_version: str | None = None
    policy_digest: str | None = None
    policy_outcome: str | None = None
    policy_reasons: list[str] = Field(default_factory=list)
    models: dict[str, str] = Field(default_factory=dict)  # name -> version
    scores: dict[str, float] = Field(default_factory=dict)
    tier: str | None = None  # rules | local | comprehend | human
    mode: str | None = None  # control mode at decision time: on | off | shadow
    shadow: bool = False
    acted: bool = False
    outcome: str
    reasons: list[str] = Field(default_factory=list)
    explanation: str = ""
    cost_usd: float = 0.0
    related_to: str | None = None  # the decision this one follows up (e.g. an agent resolving an escalation)
    prev_hash: str = GENESIS_HASH
    hash: str = ""

    def to_record(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def request(self) -> DecisionRequest | None:
        """The recorded policy facts, or None for decisions that did not consult the decision policy
        (none, or another kind of policy: their inputs name their ``kind``, e.g. ``fraud_action``)."""
        if not self.inputs or "kind" in self.inputs:
            return None
        return DecisionRequest.model_validate(self.inputs)
