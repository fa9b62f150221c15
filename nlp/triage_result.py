"""The triage result, apart from the pipeline that fills it.

Its own module because two sides read it: ``nlp.triage`` builds it and ``nlp.tiering`` settles the
Comprehend shadow decision on it; keeping the model and its key here lets the tier depend on the
result without depending on the pipeline (which calls the tier: no import circle).
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from chalicelib.core.ids import derive_decision_id


def triage_key(id: str | None, redacted: str) -> str:
    """The id a triage is known by: the caller's, else a digest of the redacted text, so the
    pipeline and the tier's shadow record agree on which message a pending decision belongs to."""
    return id or derive_decision_id("triage", redacted)


class TriageResult(BaseModel):
    id: str | None = None
    channel: str = "chat"
    language: str
    language_confidence: float
    redacted_text: str
    pii: dict[str, int] = Field(default_factory=dict)  # types and counts, never values
    entities: dict[str, Any] = Field(default_factory=dict)
    intent: str  # a BANKING77 label or "unsure"
    intent_confidence: float
    intent_top3: list[tuple[str, float]] = Field(default_factory=list)
    category: str  # a nlp.taxonomy category (incl. "out_of_scope")
    category_confidence: float
    category_source: str = "classifier"  # "classifier" | "rule:<name>" | "none"
    lex_intent: str | None = None
    sentiment: str
    sentiment_scores: dict[str, float] = Field(default_factory=dict)
    urgency: float
    urgency_reasons: list[str] = Field(default_factory=list)
    escalation_reasons: list[str] = Field(default_factory=list)  # why Comprehend was (to be) asked
    tier_used: str
    cost_usd: float = 0.0
    model_versions: dict[str, str] = Field(default_factory=dict)
    # Long text only (emails, letters; ``nlp.longtext``): ours / other_product / not_a_complaint,
    # why, the other product named, and the redacted sentences that decided scope, category, urgency.
    scope: str | None = None
    scope_reason: str | None = None
    product: str | None = None
    evidence: list[dict[str, Any]] = Field(default_factory=list)


class EmailTriageResult(TriageResult):
    # from, original_from, subject (redacted), message_id, attachments, malformed, defects
    email: dict[str, Any] = Field(default_factory=dict)
