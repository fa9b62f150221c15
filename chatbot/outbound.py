"""The outbound guard at the Lex boundary: nothing the hook returns carries a card number.

Why here and not in handlers: a handler that quotes the customer, a template, a button built from
a descriptor or a session attribute carrying the customer's words can each leak a card number,
and Lex keeps every message and attribute in its conversation logs. Every string of the wire
response passes ``chalicelib.core.pci.guard_text`` (card numbers, CVV, SSN, IBAN) after it is built,
so no handler can forget it. Session attribute values holding JSON are guarded as values, before
encoding: a scrub over the encoded string misses groupings the encoder escapes (tabs, NBSP).
"""
from __future__ import annotations

import json
from typing import Any

from chalicelib.core.pci import find_sensitive, guard_text, guard_value


def guard_attribute(value: str) -> str:
    """One session-attribute value, JSON-aware: structured values are guarded before encoding."""
    text = str(value)
    if text[:1] in "[{":
        try:
            decoded = json.loads(text)
        except ValueError:
            return guard_text(text)
        return json.dumps(guard_value(decoded), ensure_ascii=False, separators=(",", ":"))
    return guard_text(text)


def customer_shared_card(*texts: str | None) -> bool:
    """Whether the customer typed a whole card number (the reply then asks for the last 4 only)."""
    return any(sp.type == "CARD" for t in texts if t for sp in find_sensitive(t))


def _guard_slots(slots: dict[str, Any] | None) -> None:
    for slot in (slots or {}).values():
        if not isinstance(slot, dict):
            continue
        value = slot.get("value")
        if isinstance(value, dict):
            slot["value"] = guard_value(value)
        for inner in slot.get("values") or []:
            if isinstance(inner, dict) and isinstance(inner.get("value"), dict):
                inner["value"] = guard_value(inner["value"])


def guard_response(resp: dict[str, Any], warning: str | None = None) -> dict[str, Any]:
    """The wire response with every message, card field, button, slot value and session attribute
    guarded; ``warning`` (the never-share-your-card-number reply) goes first when given."""
    for message in resp.get("messages") or []:
        if message.get("content"):
            message["content"] = guard_text(message["content"])
        card = message.get("imageResponseCard")
        if card:
            for key in ("title", "subtitle", "imageUrl"):
                if card.get(key):
                    card[key] = guard_text(card[key])
            for button in card.get("buttons") or []:
                button["text"] = guard_text(button.get("text", ""))
                button["value"] = guard_text(button.get("value", ""))
    state = resp.get("sessionState") or {}
    attrs = state.get("sessionAttributes")
    if attrs:
        state["sessionAttributes"] = {k: guard_attribute(v) for k, v in attrs.items()}
    _guard_slots((state.get("intent") or {}).get("slots"))
    if warning:
        resp["messages"] = [{"contentType": "PlainText", "content": warning}, *(resp.get("messages") or [])][:10]
    if resp.get("requestAttributes"):
        resp["requestAttributes"] = guard_value(resp["requestAttributes"])
    return resp
