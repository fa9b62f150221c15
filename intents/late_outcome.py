"""What a turn that overran its time budget actually did, told to the customer on the next turn.

Why: the hook answers "taking longer than it should" when a turn passes its budget, but the turn
keeps running in its worker and may still file the dispute, record the handoff or release the
hold. A deadline check before each commit cannot close the gap (a write that starts in time can
finish after it), so the truth is delivered instead: when the abandoned turn finishes, its reply
(e.g. "Your dispute DSP-… has been filed") is posted to a per-session mailbox in a shared store,
and the session's next turn opens with it and continues from the state that turn left.

The mailbox is a store of its own (chalicelib/storage/late_notes.py, shared by every container, with
expiry), each note told exactly once; a turn that failed after its budget is reported as such, never
as a success.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Protocol

log = logging.getLogger(__name__)

LATE_OUTCOME_LOST = "late_outcome_lost"  # log code: a late result could not be posted


class LateOutcomes(Protocol):
    """The per-session mailbox of late turn results (chalicelib/storage/late_notes.py: its own
    SQLite file / DynamoDB table with TTL, so a note outlives the container that overran)."""

    def post(self, session_id: str, messages: list[str], session: dict[str, str] | None, *, failed: bool) -> None: ...

    def take(self, session_id: str) -> list[dict]: ...


def response_parts(response: Any) -> tuple[list[str], dict[str, str]]:
    """(message texts, session attributes) of a Lex response dict the late turn returned."""
    if not isinstance(response, dict):
        return [], {}
    texts = [str(m.get("content")) for m in response.get("messages") or [] if isinstance(m, dict) and m.get("content")]
    attrs = (response.get("sessionState") or {}).get("sessionAttributes") or {}
    return texts, {str(k): str(v) for k, v in attrs.items()} if isinstance(attrs, dict) else {}


def post_when_done(mailbox: LateOutcomes, session_id: str) -> Callable[[Any], None]:
    """A future's done-callback that posts the abandoned turn's result to the mailbox."""
    def done(future) -> None:
        try:
            failed = future.exception() is not None
            texts, attrs = ([], {}) if failed else response_parts(future.result())
            mailbox.post(session_id, texts, attrs, failed=failed)
        except Exception:  # the callback runs in the worker: never let it raise there
            log.exception("late turn result not posted", extra={"error_code": LATE_OUTCOME_LOST,
                                                                "session_id": session_id})
    return done


MAX_NOTE_CHARS = 600


def open_turn(mailbox: LateOutcomes | None, session_id: str) -> tuple[str | None, dict[str, str]]:
    """(the note this turn's reply opens with, or None; the session attributes the late turns left).

    A mailbox that cannot be read costs the note, never the turn: it stays for a later turn."""
    if mailbox is None:
        return None, {}
    from intents.replies import render

    try:
        pending = mailbox.take(session_id)
    except Exception:
        log.exception("late turn results not read", extra={"error_code": "late_outcome_unreadable",
                                                           "session_id": session_id})
        return None, {}
    parts: list[str] = []
    session: dict[str, str] = {}
    for note in pending:
        if note.get("failed") or not note.get("messages"):
            parts.append(render("late_outcome_failed"))
            continue
        parts.append(render("late_outcome_done", said=" ".join(note["messages"])))
        session.update(note.get("session") or {})
    text = " ".join(parts)
    if len(text) > MAX_NOTE_CHARS:
        text = text[: MAX_NOTE_CHARS - 1].rsplit(" ", 1)[0] + "…"
    return (text or None), session


def prepend_note(response: dict, note: str | None) -> dict:
    """The late note as the reply's first message."""
    if note:
        response["messages"] = [{"contentType": "PlainText", "content": note}] + list(response.get("messages") or [])
    return response
