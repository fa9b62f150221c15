"""The ground rules of the Lex V2 wire format shared by events and responses: limits, enums, base models.

Field names are snake_case in Python and camelCase on the wire (aliases; ``populate_by_name``).
Input models ignore unknown fields, because Lex adds fields without bumping ``messageVersion``;
response-only models refuse them, because there a misspelt field is our bug.
"""
from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

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
#: reported by Lex, never set by us); the dialog's Decision uses the same type.
ResponseIntentState = Literal["Failed", "Fulfilled", "InProgress", "ReadyForFulfillment"]
RESPONSE_INTENT_STATES = get_args(ResponseIntentState)
ConfirmationState = Literal["Confirmed", "Denied", "None"]
DialogActionType = Literal["Close", "ConfirmIntent", "Delegate", "ElicitIntent", "ElicitSlot", "None"]
SlotShape = Literal["Scalar", "List", "Composite"]
ContentType = Literal["PlainText", "SSML", "CustomPayload", "ImageResponseCard"]
ElicitationStyle = Literal["Default", "SpellByLetter", "SpellByWord"]


def _camel_config(extra: Literal["ignore", "forbid"]) -> ConfigDict:
    """snake_case in Python, camelCase on the wire; NaN and infinity are never valid JSON."""
    return ConfigDict(alias_generator=to_camel, populate_by_name=True, extra=extra, allow_inf_nan=False)


class WireModel(BaseModel):
    """Base for protocol models shared by input and output: unknown fields are ignored."""

    model_config = _camel_config("ignore")


class ResponseModel(BaseModel):
    """Base for response-only models: a misspelt field is a bug, so extras are refused."""

    model_config = _camel_config("forbid")


def none_string_slots(v: Any) -> Any:
    """Map the ``"None"`` string some published events use for an empty slot to ``None``."""
    if isinstance(v, dict):
        return {k: (None if s == "None" else s) for k, s in v.items()}
    return v


def none_to_empty(v: Any) -> Any:
    """Map a ``null`` map or list Lex sometimes sends to an empty one."""
    return {} if v is None else v

