"""Typed models of the Amazon Lex V2 code-hook protocol, and the only way we build responses.

Why typed models: Lex rejects a malformed response with a generic "invalid Lambda response" and the
customer sees nothing, so every response is built from validated models (never a hand-made dict)
and checked against Lex's limits before it leaves the hook. The input side is parsed once with
:func:`parse_event`, which turns every kind of bad payload (Lex V1, garbage, oversized) into a
:class:`LexEventError` with a stable ``code`` the hook can log and answer, never a traceback.

The protocol lives in named modules: ``lexv2.wire`` (limits, enums, base models),
``lexv2.state`` (slots, intents, dialog actions, session state), ``lexv2.events`` (the event),
``lexv2.parsing`` (``parse_event``), ``lexv2.responses`` (the response), ``lexv2.fitting`` (Lex's
size limits) and ``lexv2.builders``. This module keeps the one-import view of all of it
(``from lexv2 import protocol as lex``) for callers that want the whole protocol by one name.

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

from lexv2.builders import card, close, confirm_intent, custom_payload, delegate, elicit_intent, elicit_slot, make_intent
from lexv2.builders import ssml, text
from lexv2.events import Bot, EventSessionState, Interpretation, LexEvent, ProposedNextState, Transcription
from lexv2.parsing import LexEventError, parse_event
from lexv2.responses import Button, ImageResponseCard, LexResponse, LexResponseError, Message, ResponseSessionState
from lexv2.state import ActiveContext, DialogAction, Intent, RuntimeHints, SessionState, Slot, SlotValue, TimeToLive
from lexv2.wire import EVENT_ERROR_CODES, EVENT_MAX_BYTES, RESPONSE_MAX_BYTES, SESSION_ATTRIBUTES_MAX_BYTES

__all__ = [
    "ActiveContext", "Bot", "Button", "DialogAction", "EventSessionState", "ImageResponseCard",
    "Intent", "Interpretation", "LexEvent", "LexEventError", "LexResponse", "LexResponseError",
    "Message", "ProposedNextState", "ResponseSessionState", "RuntimeHints", "SessionState",
    "Slot", "SlotValue", "TimeToLive", "Transcription",
    "parse_event", "elicit_slot", "confirm_intent", "delegate", "elicit_intent", "close",
    "text", "ssml", "custom_payload", "card", "make_intent",
    "SESSION_ATTRIBUTES_MAX_BYTES", "RESPONSE_MAX_BYTES", "EVENT_MAX_BYTES", "EVENT_ERROR_CODES",
]
