"""The Lex V2 code-hook response as typed models: the only shape we ever send back.

Why typed models: Lex rejects a malformed response with a generic "invalid Lambda response" and
the customer sees nothing, so every response is built from validated models (never a hand-made
dict) and fitted to Lex's limits (lexv2.fitting) before it leaves the hook.
"""
from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator

from lexv2.fitting import LexResponseError, fit_response, json_bytes
from lexv2.state import ActiveContext, DialogAction, Intent, RuntimeHints
from lexv2.wire import RESPONSE_INTENT_STATES, ContentType, ResponseModel

__all__ = ["Button", "ImageResponseCard", "LexResponse", "LexResponseError", "Message", "ResponseSessionState"]


class Button(ResponseModel):
    """A response-card button: what it says, and what choosing it sends as the customer's words.

    Also the handlers' button (intents.dialog), so ``Button("Yes", "yes")`` reads as it always has.
    """

    text: str = Field(min_length=1)
    value: str = Field(min_length=1)

    def __init__(self, text: str | None = None, value: str | None = None, /, **data: Any) -> None:
        if text is not None:
            data["text"] = text
        if value is not None:
            data["value"] = value
        super().__init__(**data)


class ImageResponseCard(ResponseModel):
    """A card of up to five buttons (more are trimmed by fitting); the handlers' ``Card``."""

    title: str = Field(min_length=1)
    subtitle: str | None = None
    image_url: str | None = None
    buttons: list[Button] = Field(default_factory=list)


class Message(ResponseModel):
    content_type: ContentType
    content: str | None = None
    image_response_card: ImageResponseCard | None = None

    @model_validator(mode="after")
    def _body(self) -> Message:
        if self.content_type == "ImageResponseCard":
            if self.image_response_card is None:
                raise ValueError("an ImageResponseCard message needs imageResponseCard")
        elif not self.content:
            raise ValueError(f"a {self.content_type} message needs non-empty content")
        return self


class ResponseSessionState(ResponseModel):
    dialog_action: DialogAction
    intent: Intent | None = None
    session_attributes: dict[str, str] = Field(default_factory=dict)
    active_contexts: list[ActiveContext] | None = None
    originating_request_id: str | None = None
    runtime_hints: RuntimeHints | None = None

    @field_validator("intent")
    @classmethod
    def _settable_state(cls, v: Intent | None) -> Intent | None:
        if v is not None and v.state not in RESPONSE_INTENT_STATES:
            raise ValueError(f"a code hook cannot set intent state {v.state!r}")
        return v


class LexResponse(ResponseModel):
    session_state: ResponseSessionState
    messages: list[Message] | None = None
    request_attributes: dict[str, str] | None = None

    @model_validator(mode="after")
    def _elicit_intent_speaks(self) -> LexResponse:
        if self.session_state.dialog_action.type == "ElicitIntent" and not self.messages:
            raise ValueError("ElicitIntent needs at least one message")
        return self

    # -- limits ------------------------------------------------------------------------------

    def _raw(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")

    def size_bytes(self) -> int:
        return json_bytes(self._raw())

    def fit(self) -> LexResponse:
        """A copy that respects Lex's limits (see ``lexv2.fitting.fit_response``); raises
        LexResponseError when it cannot fit without losing conversation state."""
        return fit_response(self)

    def to_dict(self) -> dict[str, Any]:
        """The wire form Lex expects: camelCase, no ``None`` fields, within limits."""
        return self.fit()._raw()

