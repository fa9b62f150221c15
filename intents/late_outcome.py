"""What a turn that overran its time budget actually did, told to the customer on the next turn.

Why: the hook answers "taking longer than it should" when a turn passes its budget, but the turn
keeps running in its worker and may still file the dispute, record the handoff or release the
hold. A deadline check before each commit cannot close the gap (a write that starts in time can
finish after it), so the truth is delivered instead: when the abandoned turn finishes, its reply
(e.g. "Your dispute DSP-… has been filed") is posted to a per-session mailbox in a shared store,
and the session's next turn opens with it and continues from the state that turn left.

The mailbox lives in the idempotency store (shared by every container, with expiry), one key per
session; a turn that failed after its budget is reported as such, never as a success.
"""
from __future__ import annotations

import json
import logging
import time
from typing import Any, Callable

log = logging.getLogger(__name__)

LATE_OUTCOME_LOST = "late_outcome_lost"  # log code: a late result could not be posted


class LateOutcomes:
    """Per-session mailbox of late turn results over an ``IdempotencyStore`` (claim/complete/get)."""

    def __init__(self, store: Any, *, ttl_s: int = 24 * 3600, clock: Callable[[], float] = time.time):
        self.store = store
        self.ttl_s = ttl_s
        self.clock = clock

    @staticmethod
    def _key(session_id: str) -> str:
        return f"late_turn#{session_id}"

    def _pending(self, key: str, now: float) -> list[dict] | None:
        rec = self.store.get(key)
        if rec is None or not rec.completed or rec.expiration <= now:
            return None
        try:
            return list(json.loads(rec.data or "{}").get("pending", []))
        except (ValueError, AttributeError):
            return []

    def post(self, session_id: str, messages: list[str], session: dict[str, str] | None, *, failed: bool) -> None:
        """Record what the overrun turn said (or that it failed) for the session's next turn."""
        key, now = self._key(session_id), self.clock()
        pending = self._pending(key, now)
        if pending is None:
            self.store.claim(key, now, int(now + self.ttl_s), int((now + self.ttl_s) * 1000))
            pending = []
        pending.append({"messages": messages, "session": session or {}, "failed": failed})
        self.store.complete(key, json.dumps({"pending": pending}, separators=(",", ":")), int(now + self.ttl_s))

    def take(self, session_id: str) -> list[dict]:
        """The late results not yet told (oldest first), marked told."""
        key, now = self._key(session_id), self.clock()
        pending = self._pending(key, now)
        if not pending:
            return []
        self.store.complete(key, json.dumps({"pending": []}), int(now + self.ttl_s))
        return pending


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
