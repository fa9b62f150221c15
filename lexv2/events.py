"""The Lex V2 code-hook event as typed models: what Lex sends us on every turn.

Wire-format quirk accepted here: ``nluConfidence`` given as a string (``"1.0"``) or as the
runtime API's ``{"score": 0.9}``. Parse raw payloads with ``lexv2.parsing.parse_event``.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from lexv2.state import DialogAction, Intent, SessionState, Slot
from lexv2.wire import InputMode, InvocationSource, WireModel, none_string_slots, none_to_empty



class Bot(WireModel):
    id: str
    name: str
    alias_id: str
    alias_name: str | None = None
    locale_id: str
    version: str


class SentimentScore(WireModel):
    mixed: float | None = None
    negative: float | None = None
    neutral: float | None = None
    positive: float | None = None


class SentimentResponse(WireModel):
    sentiment: Literal["MIXED", "NEGATIVE", "NEUTRAL", "POSITIVE"]
    sentiment_score: SentimentScore | None = None


class Interpretation(WireModel):
    intent: Intent
    nlu_confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    sentiment_response: SentimentResponse | None = None
    interpretation_source: str | None = None

    @field_validator("nlu_confidence", mode="before")
    @classmethod
    def _score(cls, v: Any) -> Any:
        # The runtime API nests it as {"score": x}; some published samples send "1.0".
        if isinstance(v, dict) and "score" in v:
            return v["score"]
        return v


class ProposedNextState(WireModel):
    dialog_action: DialogAction | None = None
    intent: Intent | None = None
    prompt: dict[str, Any] | None = None


class ResolvedContext(WireModel):
    intent: str | None = None


class Transcription(WireModel):
    transcription: str
    transcription_confidence: float | None = None
    resolved_context: ResolvedContext | None = None
    resolved_slots: dict[str, Slot | None] = Field(default_factory=dict)

    _coerce_slots = field_validator("resolved_slots", mode="before")(
        lambda cls, v: none_string_slots(none_to_empty(v))
    )


class EventSessionState(SessionState):
    """A code hook is always invoked for an intent, so the event's session state has one."""

    intent: Intent


class LexEvent(WireModel):
    message_version: str = "1.0"
    invocation_source: InvocationSource
    input_mode: InputMode
    response_content_type: str | None = None
    session_id: str = Field(min_length=1)
    input_transcript: str
    invocation_label: str | None = None
    bot: Bot
    interpretations: list[Interpretation] = Field(default_factory=list)
    proposed_next_state: ProposedNextState | None = None
    session_state: EventSessionState
    request_attributes: dict[str, str] = Field(default_factory=dict)
    transcriptions: list[Transcription] = Field(default_factory=list)

    _coerce_lists = field_validator("interpretations", "transcriptions", mode="before")(
        lambda cls, v: [] if v is None else v
    )
    _coerce_attrs = field_validator("request_attributes", mode="before")(
        lambda cls, v: none_to_empty(v)
    )

    @property
    def intent(self) -> Intent:
        return self.session_state.intent

    @property
    def intent_name(self) -> str:
        return self.session_state.intent.name

    @property
    def session_attributes(self) -> dict[str, str]:
        return self.session_state.session_attributes

    @property
    def is_fulfillment(self) -> bool:
        return self.invocation_source == "FulfillmentCodeHook"

    @property
    def slot_to_elicit(self) -> str | None:
        """The slot Lex last asked for (its current dialog action) or is about to ask for."""
        for action in (
            self.session_state.dialog_action,
            self.proposed_next_state.dialog_action if self.proposed_next_state else None,
        ):
            if action is not None and action.slot_to_elicit:
                return action.slot_to_elicit
        return None

    def slot_value(self, name: str) -> str | None:
        """Interpreted value of a slot of the active intent; ``None`` when empty or unknown."""
        return self.session_state.intent.slot_value(name)

    def nlu_confidence(self, intent_name: str | None = None) -> float | None:
        """Lex's confidence in ``intent_name`` (default: the active intent)."""
        wanted = intent_name or self.intent_name
        for interp in self.interpretations:
            if interp.intent.name == wanted:
                return interp.nlu_confidence
        return None

