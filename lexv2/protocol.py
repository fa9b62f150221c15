"""Typed models of the Amazon Lex V2 code-hook protocol, and the only way we build responses.

Why typed models: Lex rejects a malformed response with a generic "invalid Lambda response" and the
customer sees nothing, so every response is built from validated models (never a hand-made dict)
and checked against Lex's limits before it leaves the hook. The input side is parsed once with
:func:`parse_event`, which turns every kind of bad payload (Lex V1, garbage, oversized) into a
:class:`LexEventError` with a stable ``code`` the hook can log and answer, never a traceback.

Field names are snake_case in Python and camelCase on the wire (aliases; ``populate_by_name``).
Input models ignore unknown fields, because Lex adds fields without bumping ``messageVersion``.

Wire-format quirks accepted on input (seen in genuine published events):

* a slot value given as the string ``"None"`` instead of ``null``;
* ``nluConfidence`` given as a string (``"1.0"``) or as the runtime API's ``{"score": 0.9}``.

Public API
----------
Parsing: ``parse_event(raw) -> LexEvent``, ``LexEventError(code, message)`` with codes in
``EVENT_ERROR_CODES``.

Response builders (all return :class:`LexResponse`; ``source`` is the parsed :class:`LexEvent`
or an :class:`Intent`; when it is an event, its session attributes are carried over unless
``session_attributes`` is given; ``slots`` overrides individual slots, a ``str`` becoming a
Scalar slot and ``None`` clearing it)::

    elicit_slot(source, slot, messages=None, session_attributes=None, *, slots=None,
                style=None, request_attributes=None, active_contexts=None)
    confirm_intent(source, messages=None, session_attributes=None, *, slots=None, ...)
    delegate(source, session_attributes=None, *, slots=None, ...)
    elicit_intent(source, messages, session_attributes=None, *, ...)   # source may be None
    close(source, state="Fulfilled", messages=None, session_attributes=None, *, slots=None, ...)
    text(content) -> Message;  ssml(content) -> Message;  custom_payload(content) -> Message
    card(title, buttons, subtitle=None, image_url=None) -> Message
    make_intent(name, slots=None, state="InProgress", confirmation_state="None") -> Intent

``messages`` everywhere accepts ``None``, a ``str``, a :class:`Message` or a sequence of both.
``card`` buttons accept :class:`Button`, ``(text, value)`` pairs, plain strings (text == value)
or ``{"text": ..., "value": ...}`` dicts.

Serialising: ``LexResponse.to_dict()`` fits the response to Lex's limits (see :meth:`fit`) and
returns camelCase JSON-ready data with ``None`` fields omitted.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------
# Limits
# --------------------------------------------------------------------------------------------

#: Lex V2 keeps session attributes small; beyond this Lex fails the turn.
SESSION_ATTRIBUTES_MAX_BYTES = 12 * 1024
#: Our ceiling for a whole code-hook response (serialised, UTF-8).
RESPONSE_MAX_BYTES = 50 * 1024
#: Largest event we accept; a genuine Lex V2 event is a few KB even with 10 KB transcripts.
EVENT_MAX_BYTES = 100 * 1024
#: Deeper than this is not a Lex event (the deepest genuine path is about 10 levels).
EVENT_MAX_DEPTH = 64
#: Lex runtime API limits on messages and response cards.
MESSAGE_CONTENT_MAX_CHARS = 1000
CARD_MAX_BUTTONS = 5
CARD_TEXT_MAX_CHARS = 250  # title, subtitle, imageUrl
BUTTON_TEXT_MAX_CHARS = 50  # button text and value

ELLIPSIS = "\u2026"

EVENT_ERROR_CODES = ("not_a_dict", "lex_v1_event", "missing_field", "invalid_field", "too_large")

InvocationSource = Literal["DialogCodeHook", "FulfillmentCodeHook"]
InputMode = Literal["Text", "Speech", "DTMF"]
IntentState = Literal[
    "Failed", "Fulfilled", "InProgress", "ReadyForFulfillment", "Waiting", "FulfillmentInProgress"
]
#: The intent states Lex accepts back from a code hook (Waiting / FulfillmentInProgress are
#: reported by Lex, never set by us).
RESPONSE_INTENT_STATES = ("Failed", "Fulfilled", "InProgress", "ReadyForFulfillment")
ConfirmationState = Literal["Confirmed", "Denied", "None"]
DialogActionType = Literal["Close", "ConfirmIntent", "Delegate", "ElicitIntent", "ElicitSlot", "None"]
SlotShape = Literal["Scalar", "List", "Composite"]
ContentType = Literal["PlainText", "SSML", "CustomPayload", "ImageResponseCard"]
ElicitationStyle = Literal["Default", "SpellByLetter", "SpellByWord"]


class _Model(BaseModel):
    """Base for protocol models shared by input and output: unknown fields are ignored."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        allow_inf_nan=False,
    )


class _OutModel(BaseModel):
    """Base for response-only models: a misspelt field is a bug, so extras are refused."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        allow_inf_nan=False,
    )


def _none_string_slots(v: Any) -> Any:
    """Map the ``"None"`` string some published events use for an empty slot to ``None``."""
    if isinstance(v, dict):
        return {k: (None if s == "None" else s) for k, s in v.items()}
    return v


def _none_to_empty(v: Any) -> Any:
    return {} if v is None else v


# --------------------------------------------------------------------------------------------
# Shared structures: slots, intents, dialog actions, contexts, hints
# --------------------------------------------------------------------------------------------


class SlotValue(_Model):
    original_value: str | None = None
    interpreted_value: str | None = None
    resolved_values: list[str] = Field(default_factory=list)


class Slot(_Model):
    shape: SlotShape | None = None
    value: SlotValue | None = None
    values: list[Slot] | None = None
    sub_slots: dict[str, Slot | None] | None = None

    _coerce_sub_slots = field_validator("sub_slots", mode="before")(
        lambda cls, v: _none_string_slots(v)
    )

    @classmethod
    def scalar(cls, value: str, original: str | None = None) -> Slot:
        """A filled Scalar slot, as Lex would send it back after resolving ``value``."""
        return cls(
            shape="Scalar",
            value=SlotValue(
                original_value=value if original is None else original,
                interpreted_value=value,
                resolved_values=[value],
            ),
        )

    @property
    def interpreted(self) -> str | None:
        """The value handlers should use: Lex's interpretation, or ``None`` if it has none.

        For a List slot Lex also fills the top-level ``value``; when it does not, the first
        element's interpretation is returned (see :attr:`interpreted_values` for all of them).
        """
        if self.value is not None and self.value.interpreted_value is not None:
            return self.value.interpreted_value
        if self.values:
            return self.values[0].interpreted
        return None

    @property
    def original(self) -> str | None:
        return self.value.original_value if self.value is not None else None

    @property
    def interpreted_values(self) -> list[str]:
        """Every interpreted value: the elements of a List slot, or the single Scalar value."""
        if self.values:
            return [v for v in (s.interpreted for s in self.values) if v is not None]
        one = self.interpreted
        return [] if one is None else [one]


Slot.model_rebuild()

SlotInput = Union[str, Slot, None]


def _to_slot(value: SlotInput | Mapping[str, Any]) -> Slot | None:
    if value is None or isinstance(value, Slot):
        return value
    if isinstance(value, str):
        return Slot.scalar(value)
    if isinstance(value, Mapping):
        return Slot.model_validate(dict(value))
    raise TypeError(f"slot value must be str, Slot, mapping or None, not {type(value).__name__}")


class Intent(_Model):
    name: str = Field(min_length=1)
    slots: dict[str, Slot | None] = Field(default_factory=dict)
    state: IntentState = "InProgress"
    confirmation_state: ConfirmationState = "None"

    _coerce_slots = field_validator("slots", mode="before")(
        lambda cls, v: _none_string_slots(_none_to_empty(v))
    )

    def slot_value(self, name: str) -> str | None:
        slot = self.slots.get(name)
        return slot.interpreted if slot is not None else None

    def slot_values(self) -> dict[str, str | None]:
        return {k: (s.interpreted if s is not None else None) for k, s in self.slots.items()}

    def with_slots(self, slots: Mapping[str, SlotInput] | None) -> Intent:
        """A copy with some slots replaced (``str`` → Scalar slot, ``None`` → cleared)."""
        if not slots:
            return self.model_copy(deep=True)
        merged = dict(self.model_copy(deep=True).slots)
        for k, v in slots.items():
            merged[k] = _to_slot(v)
        return self.model_copy(update={"slots": merged}, deep=True)


class ElicitSubSlot(_Model):
    name: str | None = None
    sub_slot_to_elicit: ElicitSubSlot | None = None


ElicitSubSlot.model_rebuild()


class DialogAction(_Model):
    type: DialogActionType
    slot_to_elicit: str | None = None
    slot_elicitation_style: ElicitationStyle | None = None
    sub_slot_to_elicit: ElicitSubSlot | None = None

    @model_validator(mode="after")
    def _slot_needed(self) -> DialogAction:
        if self.type == "ElicitSlot" and not self.slot_to_elicit:
            raise ValueError("ElicitSlot needs slotToElicit")
        return self


class TimeToLive(_Model):
    time_to_live_in_seconds: int = Field(ge=0)
    turns_to_live: int = Field(ge=0)


class ActiveContext(_Model):
    name: str = Field(min_length=1)
    time_to_live: TimeToLive
    context_attributes: dict[str, str] = Field(default_factory=dict)

    _coerce_attrs = field_validator("context_attributes", mode="before")(
        lambda cls, v: _none_to_empty(v)
    )


class RuntimeHintValue(_Model):
    phrase: str


class RuntimeHintDetails(_Model):
    runtime_hint_values: list[RuntimeHintValue] | None = None
    sub_slot_hints: dict[str, RuntimeHintDetails] | None = None


RuntimeHintDetails.model_rebuild()


class RuntimeHints(_Model):
    slot_hints: dict[str, dict[str, RuntimeHintDetails]] | None = None


class SessionState(_Model):
    active_contexts: list[ActiveContext] | None = None
    session_attributes: dict[str, str] = Field(default_factory=dict)
    dialog_action: DialogAction | None = None
    intent: Intent | None = None
    originating_request_id: str | None = None
    runtime_hints: RuntimeHints | None = None

    _coerce_attrs = field_validator("session_attributes", mode="before")(
        lambda cls, v: _none_to_empty(v)
    )


# --------------------------------------------------------------------------------------------
# Input event
# --------------------------------------------------------------------------------------------


class Bot(_Model):
    id: str
    name: str
    alias_id: str
    alias_name: str | None = None
    locale_id: str
    version: str


class SentimentScore(_Model):
    mixed: float | None = None
    negative: float | None = None
    neutral: float | None = None
    positive: float | None = None


class SentimentResponse(_Model):
    sentiment: Literal["MIXED", "NEGATIVE", "NEUTRAL", "POSITIVE"]
    sentiment_score: SentimentScore | None = None


class Interpretation(_Model):
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


class ProposedNextState(_Model):
    dialog_action: DialogAction | None = None
    intent: Intent | None = None
    prompt: dict[str, Any] | None = None


class ResolvedContext(_Model):
    intent: str | None = None


class Transcription(_Model):
    transcription: str
    transcription_confidence: float | None = None
    resolved_context: ResolvedContext | None = None
    resolved_slots: dict[str, Slot | None] = Field(default_factory=dict)

    _coerce_slots = field_validator("resolved_slots", mode="before")(
        lambda cls, v: _none_string_slots(_none_to_empty(v))
    )


class EventSessionState(SessionState):
    """A code hook is always invoked for an intent, so the event's session state has one."""

    intent: Intent


class LexEvent(_Model):
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
        lambda cls, v: _none_to_empty(v)
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


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------


class LexEventError(ValueError):
    """A payload the hook cannot treat as a Lex V2 event.

    ``code`` is one of :data:`EVENT_ERROR_CODES` and is stable (logs, metrics and tests key on
    it); ``message`` is for humans and never contains input values, which may carry PII.
    """

    def __init__(self, code: str, message: str):
        if code not in EVENT_ERROR_CODES:
            raise ValueError(f"unknown LexEventError code {code!r}")
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _reject(code: str, message: str) -> LexEventError:
    log.warning("lex_event_rejected code=%s detail=%s", code, message)
    return LexEventError(code, message)


def _check_depth(raw: Any) -> None:
    """Refuse absurd nesting before anything recursive (json, pydantic) touches it."""
    stack: list[tuple[Any, int]] = [(raw, 1)]
    nodes = 0
    while stack:
        obj, depth = stack.pop()
        if depth > EVENT_MAX_DEPTH:
            raise _reject("too_large", f"nested deeper than {EVENT_MAX_DEPTH} levels")
        nodes += 1
        if nodes > EVENT_MAX_BYTES:  # every node costs at least one byte once serialised
            raise _reject("too_large", f"more than {EVENT_MAX_BYTES} values")
        if isinstance(obj, dict):
            stack.extend((v, depth + 1) for v in obj.values())
        elif isinstance(obj, (list, tuple)):
            stack.extend((v, depth + 1) for v in obj)


def _looks_like_v1(raw: dict) -> bool:
    # Both V1 and V2 send messageVersion "1.0", so the version alone proves nothing: V1 is
    # recognised by its own top-level fields and by the absence of V2's sessionState.
    if "currentIntent" in raw or "outputDialogMode" in raw:
        return True
    return "sessionState" not in raw and "userId" in raw and raw.get("messageVersion") == "1.0"


def _describe(exc: ValidationError) -> tuple[str, str]:
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    code = "missing_field" if any(e["type"] == "missing" for e in errors) else "invalid_field"
    chosen = [e for e in errors if (e["type"] == "missing") == (code == "missing_field")][:3]
    parts = []
    for e in chosen:
        path = ".".join(str(p) for p in e["loc"]) or "<event>"
        parts.append(f"{path}: {e['msg']}")
    more = len(errors) - len(chosen)
    if more > 0:
        parts.append(f"(+{more} more)")
    return code, "; ".join(parts)


def parse_event(raw: Any) -> LexEvent:
    """Parse one code-hook payload into a :class:`LexEvent`, or raise :class:`LexEventError`.

    ``raw`` is normally the dict Lambda hands the hook; JSON text (``str``/``bytes``) is also
    accepted so local tools can pass a body through unchanged. Checks run cheapest first and
    each failure maps to one stable code, so garbage of any shape ends as a LexEventError.
    """
    if isinstance(raw, (bytes, bytearray, str)):
        if len(raw) > EVENT_MAX_BYTES:
            raise _reject("too_large", f"payload over {EVENT_MAX_BYTES} bytes")
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError):
            raise _reject("not_a_dict", "payload is text but not a JSON object") from None
    if not isinstance(raw, dict):
        raise _reject("not_a_dict", f"payload is {type(raw).__name__}, not a JSON object")

    _check_depth(raw)
    try:
        size = len(
            json.dumps(raw, allow_nan=False, ensure_ascii=False, separators=(",", ":")).encode(
                "utf-8", "surrogatepass"
            )
        )
    except (TypeError, ValueError) as exc:
        kind = "NaN or Infinity" if "JSON compliant" in str(exc) else "a non-JSON value"
        raise _reject("invalid_field", f"payload contains {kind}") from None
    if size > EVENT_MAX_BYTES:
        raise _reject("too_large", f"event is {size} bytes, over {EVENT_MAX_BYTES}")

    if _looks_like_v1(raw):
        raise _reject(
            "lex_v1_event",
            "this is a Lex V1 event (currentIntent/outputDialogMode); the hook speaks Lex V2 only",
        )
    try:
        return LexEvent.model_validate(raw)
    except ValidationError as exc:
        code, message = _describe(exc)
        raise _reject(code, message) from None


# --------------------------------------------------------------------------------------------
# Response
# --------------------------------------------------------------------------------------------


class Button(_OutModel):
    text: str = Field(min_length=1)
    value: str = Field(min_length=1)


class ImageResponseCard(_OutModel):
    title: str = Field(min_length=1)
    subtitle: str | None = None
    image_url: str | None = None
    buttons: list[Button] = Field(default_factory=list)


class Message(_OutModel):
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


class ResponseSessionState(_OutModel):
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


class LexResponseError(ValueError):
    """A response that cannot be made to fit Lex's limits without losing conversation state."""


class LexResponse(_OutModel):
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
        return _json_bytes(self._raw())

    def fit(self) -> LexResponse:
        """A copy that respects Lex's limits, trimming only what the customer can spare.

        Order: clip message text and card fields, keep 5 buttons per card; then, while the
        response is over :data:`RESPONSE_MAX_BYTES`, drop trailing messages, shorten the first,
        drop runtime hints, request attributes and resolved-value lists. Session attributes are
        conversation state and are never trimmed: over the limit they raise LexResponseError,
        as does a response still too large after every trim.
        """
        sa_bytes = _json_bytes(self.session_state.session_attributes)
        if sa_bytes > SESSION_ATTRIBUTES_MAX_BYTES:
            raise LexResponseError(
                f"session attributes are {sa_bytes} bytes, over Lex's "
                f"{SESSION_ATTRIBUTES_MAX_BYTES}; keep less state per session"
            )
        out = self.model_copy(deep=True)
        if out.messages:
            out.messages = [_fit_message(m) for m in out.messages]
        if out.size_bytes() <= RESPONSE_MAX_BYTES:
            return out
        while out.messages and len(out.messages) > 1 and out.size_bytes() > RESPONSE_MAX_BYTES:
            out.messages.pop()
        if out.messages and out.size_bytes() > RESPONSE_MAX_BYTES:
            out.messages[0] = _fit_message(out.messages[0], max_chars=200)
        for trim in (_drop_hints, _drop_request_attributes, _drop_resolved_values):
            if out.size_bytes() <= RESPONSE_MAX_BYTES:
                break
            trim(out)
        size = out.size_bytes()
        if size > RESPONSE_MAX_BYTES:
            raise LexResponseError(f"response is {size} bytes after trimming, over {RESPONSE_MAX_BYTES}")
        return out

    def to_dict(self) -> dict[str, Any]:
        """The wire form Lex expects: camelCase, no ``None`` fields, within limits."""
        return self.fit()._raw()


def _json_bytes(data: Any) -> int:
    return len(
        json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
    )


def _clip(s: str | None, n: int) -> str | None:
    if s is None or len(s) <= n:
        return s
    return s[: n - 1] + ELLIPSIS


def _fit_message(m: Message, max_chars: int = MESSAGE_CONTENT_MAX_CHARS) -> Message:
    m = m.model_copy(deep=True)
    m.content = _clip(m.content, max_chars)
    card_ = m.image_response_card
    if card_ is not None:
        card_.title = _clip(card_.title, CARD_TEXT_MAX_CHARS)
        card_.subtitle = _clip(card_.subtitle, CARD_TEXT_MAX_CHARS)
        if card_.image_url is not None and len(card_.image_url) > CARD_TEXT_MAX_CHARS:
            card_.image_url = None  # a clipped URL is a broken image; better none
        card_.buttons = [
            Button(
                text=_clip(b.text, BUTTON_TEXT_MAX_CHARS),
                value=b.value[:BUTTON_TEXT_MAX_CHARS],
            )
            for b in card_.buttons[:CARD_MAX_BUTTONS]
        ]
    return m


def _drop_hints(r: LexResponse) -> None:
    r.session_state.runtime_hints = None


def _drop_request_attributes(r: LexResponse) -> None:
    r.request_attributes = None


def _drop_resolved_values(r: LexResponse) -> None:
    intent = r.session_state.intent
    if intent is None:
        return

    def strip(slot: Slot | None) -> None:
        if slot is None:
            return
        if slot.value is not None:
            slot.value.resolved_values = []
        for s in slot.values or []:
            strip(s)
        for s in (slot.sub_slots or {}).values():
            strip(s)

    for s in intent.slots.values():
        strip(s)


# --------------------------------------------------------------------------------------------
# Builders
# --------------------------------------------------------------------------------------------

MessagesArg = Union[None, str, Message, Sequence[Union[str, Message]]]
ButtonArg = Union[Button, str, tuple[str, str], Mapping[str, str]]
Source = Union[LexEvent, Intent]


def text(content: str) -> Message:
    """A PlainText message."""
    return Message(content_type="PlainText", content=content)


def ssml(content: str) -> Message:
    """An SSML message (voice channels)."""
    return Message(content_type="SSML", content=content)


def custom_payload(content: str) -> Message:
    """A CustomPayload message: opaque to Lex, interpreted by the client."""
    return Message(content_type="CustomPayload", content=content)


def _button(b: ButtonArg) -> Button:
    if isinstance(b, Button):
        return b
    if isinstance(b, str):
        return Button(text=b, value=b)
    if isinstance(b, Mapping):
        return Button(text=b["text"], value=b["value"])
    if isinstance(b, tuple) and len(b) == 2:
        return Button(text=b[0], value=b[1])
    raise TypeError(f"cannot make a button from {type(b).__name__}")


def card(
    title: str,
    buttons: Sequence[ButtonArg] = (),
    subtitle: str | None = None,
    image_url: str | None = None,
) -> Message:
    """An ImageResponseCard message. More than 5 buttons are kept here and trimmed by ``fit``."""
    return Message(
        content_type="ImageResponseCard",
        image_response_card=ImageResponseCard(
            title=title,
            subtitle=subtitle,
            image_url=image_url,
            buttons=[_button(b) for b in buttons],
        ),
    )


def make_intent(
    name: str,
    slots: Mapping[str, SlotInput] | None = None,
    state: IntentState = "InProgress",
    confirmation_state: ConfirmationState = "None",
) -> Intent:
    """An intent from plain slot values, for switching intents or tests."""
    return Intent(
        name=name,
        slots={k: _to_slot(v) for k, v in (slots or {}).items()},
        state=state,
        confirmation_state=confirmation_state,
    )


def _messages(messages: MessagesArg) -> list[Message] | None:
    if messages is None:
        return None
    if isinstance(messages, (str, Message)):
        messages = [messages]
    out = [text(m) if isinstance(m, str) else m for m in messages]
    return out or None


def _intent_of(source: Source | None) -> Intent | None:
    if source is None:
        return None
    if isinstance(source, LexEvent):
        return source.intent.model_copy(deep=True)
    if isinstance(source, Intent):
        return source.model_copy(deep=True)
    raise TypeError(f"source must be a LexEvent or an Intent, not {type(source).__name__}")


def _attrs(source: Source | None, session_attributes: Mapping[str, str] | None) -> dict[str, str]:
    if session_attributes is not None:
        return dict(session_attributes)
    if isinstance(source, LexEvent):
        return dict(source.session_attributes)
    return {}


def _settable(state: str) -> IntentState:
    return state if state in RESPONSE_INTENT_STATES else "InProgress"  # type: ignore[return-value]


def _response(
    action: DialogAction,
    intent: Intent | None,
    source: Source | None,
    messages: MessagesArg,
    session_attributes: Mapping[str, str] | None,
    request_attributes: Mapping[str, str] | None,
    active_contexts: Sequence[ActiveContext] | None,
) -> LexResponse:
    return LexResponse(
        session_state=ResponseSessionState(
            dialog_action=action,
            intent=intent,
            session_attributes=_attrs(source, session_attributes),
            active_contexts=list(active_contexts) if active_contexts is not None else None,
        ),
        messages=_messages(messages),
        request_attributes=dict(request_attributes) if request_attributes is not None else None,
    )


def elicit_slot(
    source: Source,
    slot: str,
    messages: MessagesArg = None,
    session_attributes: Mapping[str, str] | None = None,
    *,
    slots: Mapping[str, SlotInput] | None = None,
    style: ElicitationStyle | None = None,
    request_attributes: Mapping[str, str] | None = None,
    active_contexts: Sequence[ActiveContext] | None = None,
) -> LexResponse:
    """Ask for ``slot``. Without messages Lex uses the slot's own prompt from the bot definition.

    To re-ask after a failed validation, pass ``slots={slot: None}`` so Lex forgets the bad value.
    """
    intent = _intent_of(source).with_slots(slots)
    intent.state = "InProgress"
    return _response(
        DialogAction(type="ElicitSlot", slot_to_elicit=slot, slot_elicitation_style=style),
        intent, source, messages, session_attributes, request_attributes, active_contexts,
    )


def confirm_intent(
    source: Source,
    messages: MessagesArg = None,
    session_attributes: Mapping[str, str] | None = None,
    *,
    slots: Mapping[str, SlotInput] | None = None,
    request_attributes: Mapping[str, str] | None = None,
    active_contexts: Sequence[ActiveContext] | None = None,
) -> LexResponse:
    """Ask the customer a yes/no question about the whole intent (e.g. "File this dispute?")."""
    intent = _intent_of(source).with_slots(slots)
    intent.state = "InProgress"
    intent.confirmation_state = "None"
    return _response(
        DialogAction(type="ConfirmIntent"),
        intent, source, messages, session_attributes, request_attributes, active_contexts,
    )


def delegate(
    source: Source,
    session_attributes: Mapping[str, str] | None = None,
    *,
    slots: Mapping[str, SlotInput] | None = None,
    request_attributes: Mapping[str, str] | None = None,
    active_contexts: Sequence[ActiveContext] | None = None,
) -> LexResponse:
    """Let Lex choose the next step (next slot prompt, confirmation or fulfilment)."""
    intent = _intent_of(source).with_slots(slots)
    intent.state = _settable(intent.state)
    return _response(
        DialogAction(type="Delegate"),
        intent, source, None, session_attributes, request_attributes, active_contexts,
    )


def elicit_intent(
    source: Source | None,
    messages: MessagesArg,
    session_attributes: Mapping[str, str] | None = None,
    *,
    request_attributes: Mapping[str, str] | None = None,
    active_contexts: Sequence[ActiveContext] | None = None,
) -> LexResponse:
    """Ask "what would you like to do?": ends the current intent, so no intent is sent back.

    ``source`` only supplies session attributes to carry over; messages are mandatory.
    """
    if not _messages(messages):
        raise ValueError("elicit_intent needs at least one message")
    return _response(
        DialogAction(type="ElicitIntent"),
        None, source, messages, session_attributes, request_attributes, active_contexts,
    )


def close(
    source: Source,
    state: Literal["Fulfilled", "Failed"] = "Fulfilled",
    messages: MessagesArg = None,
    session_attributes: Mapping[str, str] | None = None,
    *,
    slots: Mapping[str, SlotInput] | None = None,
    request_attributes: Mapping[str, str] | None = None,
    active_contexts: Sequence[ActiveContext] | None = None,
) -> LexResponse:
    """End the intent as Fulfilled or Failed; no reply is expected from the customer."""
    if state not in ("Fulfilled", "Failed"):
        raise ValueError(f"close state must be Fulfilled or Failed, not {state!r}")
    intent = _intent_of(source).with_slots(slots)
    intent.state = state
    return _response(
        DialogAction(type="Close"),
        intent, source, messages, session_attributes, request_attributes, active_contexts,
    )


__all__ = [
    "ActiveContext", "Bot", "Button", "DialogAction", "EventSessionState", "ImageResponseCard",
    "Intent", "Interpretation", "LexEvent", "LexEventError", "LexResponse", "LexResponseError",
    "Message", "ProposedNextState", "ResponseSessionState", "RuntimeHints", "SessionState",
    "Slot", "SlotValue", "TimeToLive", "Transcription",
    "parse_event", "elicit_slot", "confirm_intent", "delegate", "elicit_intent", "close",
    "text", "ssml", "custom_payload", "card", "make_intent",
    "SESSION_ATTRIBUTES_MAX_BYTES", "RESPONSE_MAX_BYTES", "EVENT_MAX_BYTES", "EVENT_ERROR_CODES",
]
