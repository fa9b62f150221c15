"""Fitting a response to Lex's limits, trimming only what the customer can spare.

Why: Lex rejects an oversized response with a generic "invalid Lambda response" and the
customer sees nothing, so every response is fitted before it leaves the hook.
"""
from __future__ import annotations

import json
from typing import Any

from lexv2.state import Slot
from lexv2.wire import (
    BUTTON_TEXT_MAX_CHARS,
    CARD_MAX_BUTTONS,
    CARD_TEXT_MAX_CHARS,
    ELLIPSIS,
    MESSAGE_CONTENT_MAX_CHARS,
    RESPONSE_MAX_BYTES,
    SESSION_ATTRIBUTES_MAX_BYTES,
)


class LexResponseError(ValueError):
    """A response that cannot be made to fit Lex's limits without losing conversation state."""


def fit_response(response):
    """A copy of a LexResponse that respects Lex's limits, trimming only what the customer can spare.

    Order: clip message text and card fields, keep 5 buttons per card; then, while the
    response is over :data:`RESPONSE_MAX_BYTES`, drop trailing messages, shorten the first,
    drop runtime hints, request attributes and resolved-value lists. Session attributes are
    conversation state and are never trimmed: over the limit they raise LexResponseError,
    as does a response still too large after every trim.
    """
    sa_bytes = json_bytes(response.session_state.session_attributes)
    if sa_bytes > SESSION_ATTRIBUTES_MAX_BYTES:
        raise LexResponseError(
            f"session attributes are {sa_bytes} bytes, over Lex's "
            f"{SESSION_ATTRIBUTES_MAX_BYTES}; keep less state per session"
        )
    out = response.model_copy(deep=True)
    if out.messages:
        out.messages = [fit_message(m) for m in out.messages]
    if out.size_bytes() <= RESPONSE_MAX_BYTES:
        return out
    while out.messages and len(out.messages) > 1 and out.size_bytes() > RESPONSE_MAX_BYTES:
        out.messages.pop()
    if out.messages and out.size_bytes() > RESPONSE_MAX_BYTES:
        out.messages[0] = fit_message(out.messages[0], max_chars=200)
    for trim in (drop_hints, drop_request_attributes, drop_resolved_values):
        if out.size_bytes() <= RESPONSE_MAX_BYTES:
            break
        trim(out)
    size = out.size_bytes()
    if size > RESPONSE_MAX_BYTES:
        raise LexResponseError(f"response is {size} bytes after trimming, over {RESPONSE_MAX_BYTES}")
    return out


def json_bytes(data: Any) -> int:
    return len(
        json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
    )


def clip(s: str | None, n: int) -> str | None:
    if s is None or len(s) <= n:
        return s
    return s[: n - 1] + ELLIPSIS


def fit_message(m, max_chars: int = MESSAGE_CONTENT_MAX_CHARS):
    """A copy of a message with its text, card fields and buttons clipped to Lex's limits."""
    m = m.model_copy(deep=True)
    m.content = clip(m.content, max_chars)
    card_ = m.image_response_card
    if card_ is not None:
        card_.title = clip(card_.title, CARD_TEXT_MAX_CHARS)
        card_.subtitle = clip(card_.subtitle, CARD_TEXT_MAX_CHARS)
        if card_.image_url is not None and len(card_.image_url) > CARD_TEXT_MAX_CHARS:
            card_.image_url = None  # a clipped URL is a broken image; better none
        card_.buttons = [
            b.model_copy(update={"text": clip(b.text, BUTTON_TEXT_MAX_CHARS),
                                 "value": b.value[:BUTTON_TEXT_MAX_CHARS]})
            for b in card_.buttons[:CARD_MAX_BUTTONS]
        ]
    return m


def drop_hints(r) -> None:
    r.session_state.runtime_hints = None


def drop_request_attributes(r) -> None:
    r.request_attributes = None


def drop_resolved_values(r) -> None:
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

