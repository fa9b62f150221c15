"""Both sides of every chat turn, into the transcript the agent reads when the chat is handed over.

Why in the hook and not in the intents: every turn passes the hook, whichever intent answers it,
so no handler can forget to record, and what is recorded is exactly the reply the customer got
(after size fitting), not what a handler meant to say. It is recorded once the turn is answered
(one write per turn, off the handler's path); a handover inside the turn adds the customer's
current words itself (intents/ticketing.py).
"""
from __future__ import annotations

from typing import Any

from intents.dialog import Turn


def speaker(turn: Turn) -> str | None:
    return turn.identity.customer_id if turn.identity.verified else None


def reply_texts(response: dict) -> list[str]:
    """The texts of a Lex V2 response's messages as the customer saw them (a card as its title and
    its buttons)."""
    out = []
    for m in response.get("messages") or []:
        if not isinstance(m, dict):
            continue
        if m.get("contentType") in ("PlainText", "SSML", "CustomPayload") and isinstance(m.get("content"), str):
            out.append(m["content"])
        elif m.get("contentType") == "ImageResponseCard" and isinstance(m.get("imageResponseCard"), dict):
            card = m["imageResponseCard"]
            buttons = [str(b.get("text", "")) for b in card.get("buttons") or [] if isinstance(b, dict)]
            out.append(" ".join([str(card.get("title", ""))] + ([f"[{' | '.join(buttons)}]"] if buttons else [])))
    return out


def record_turn(services: Any, asked: Turn, answered: Turn, response: dict) -> None:
    """``asked``: the turn as the customer spoke it; ``answered``: the turn the reply came from (after
    any redirect, with the identity a step-up in this turn verified)."""
    recorder = getattr(services, "transcripts", None)
    if recorder is not None:
        recorder.exchange(asked.session_id, speaker(asked), asked.transcript, speaker(answered),
                          reply_texts(response), asked.now)
