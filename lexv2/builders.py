"""Building responses: the hook's only way to make one (each builder returns a valid LexResponse).

``source`` is the parsed LexEvent or an Intent; when it is an event, its session attributes are
carried over unless ``session_attributes`` is given; ``slots`` overrides individual slots, a
``str`` becoming a Scalar slot and ``None`` clearing it. ``messages`` everywhere accepts
``None``, a ``str``, a Message or a sequence of both; ``card`` buttons accept Button,
``(text, value)`` pairs, plain strings (text == value) or ``{"text": ..., "value": ...}`` dicts.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, Union

from lexv2.events import LexEvent
from lexv2.responses import Button, ImageResponseCard, LexResponse, Message, ResponseSessionState
from lexv2.state import ActiveContext, DialogAction, Intent, SlotInput, to_slot
from lexv2.wire import RESPONSE_INTENT_STATES, ConfirmationState, ElicitationStyle, IntentState

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
        slots={k: to_slot(v) for k, v in (slots or {}).items()},
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
