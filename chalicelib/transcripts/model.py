"""A session's transcript: the turn records, who may read which of them, and the recorder the hook
calls on every turn.

Keyed by the hashed session key (chalicelib.core.ids.session_key), never the channel's raw id.
Every turn carries its *owner*: the verified customer it was said by or to, or ``""`` when nobody
was verified. A session can change hands (a second token, an expired one), so a read is always a
read *for* a reader, and :func:`visible_to` decides what that reader may see:

- a verified customer's turns are theirs alone;
- an anonymous turn belongs to the customer on both sides of it: it is visible to reader R when
  the nearest owned turn before it and the nearest after it are each R's or absent. So the "find
  my payment" typed before verifying is in the verified customer's ticket, but what was said
  between customer A and customer B in one session reaches neither;
- an anonymous reader sees only the anonymous turns after the last owned turn.

Texts are stored redacted only: the recorder runs the NLP redactor and the card-number guard
before the store sees a character, and the store guards again.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Callable, Iterable, Literal, Protocol, Sequence

from pydantic import BaseModel

from chalicelib.core.clock import outbound_time
from chalicelib.core.pci import guard_text

logger = logging.getLogger("dispute_assistant.transcripts")

ANONYMOUS = ""
Role = Literal["customer", "assistant"]
MAX_TEXT_CHARS = 2000  # the hook refuses longer input; a reply longer than this is cut
MAX_STORED_TURNS = 400  # per session: past this the session is abuse, and the newest turns are not kept


class TranscriptTurn(BaseModel):
    session_id: str
    seq: int
    owner: str  # customer id, or ANONYMOUS
    role: Role
    text: str
    at: datetime
    expires_at: int  # epoch seconds (DynamoDB TTL); expired turns are never returned

    def as_message(self) -> dict:
        """The bundle's message shape, timestamp in the one outbound form."""
        return {"role": self.role, "at": outbound_time(self.at), "text": self.text}


class TranscriptFull(Exception):
    """The session holds MAX_STORED_TURNS already: the turn is not stored (code transcript_full)."""


class TranscriptStore(Protocol):
    def create_schema(self) -> None: ...

    def append(self, session_id: str, owner: str, entries: Sequence[tuple[Role, str]], at: datetime,
               expires_at: int) -> list[TranscriptTurn]:
        """Store ``entries`` in order after the session's last turn; raises TranscriptFull."""
        ...

    def read(self, session_id: str, reader: str | None, now: datetime) -> list[TranscriptTurn]:
        """The unexpired turns of the session that ``reader`` (customer id, or None) may see, in order."""
        ...


def clean_entries(entries: Iterable[tuple[str, str]]) -> list[tuple[Role, str]]:
    """Validated (role, guarded text) pairs, empty texts dropped; a bad role is a caller's bug."""
    out: list[tuple[Role, str]] = []
    for role, text in entries:
        if role not in ("customer", "assistant"):
            raise ValueError(f"transcript role must be customer or assistant, got {role!r}")
        text = guard_text(str(text or "").strip())[:MAX_TEXT_CHARS]
        if text:
            out.append((role, text))  # type: ignore[arg-type]
    return out


def visible_to(turns: Sequence[TranscriptTurn], reader: str | None) -> list[TranscriptTurn]:
    """The turns ``reader`` may read (see the module docstring for the rule)."""
    reader = reader or ANONYMOUS
    owners = [t.owner for t in turns]
    out = []
    for i, t in enumerate(turns):
        if t.owner != ANONYMOUS:
            if t.owner == reader:
                out.append(t)
            continue
        before = next((o for o in reversed(owners[:i]) if o != ANONYMOUS), None)
        after = next((o for o in owners[i + 1:] if o != ANONYMOUS), None)
        if reader == ANONYMOUS:
            ok = after is None
        else:
            ok = before in (None, reader) and after in (None, reader)
        if ok:
            out.append(t)
    return out


class TranscriptRecorder:
    """What the hook calls once a turn is answered (``exchange``) and the ticket desk reads
    (``conversation``). A failing store never fails the turn: the turn is answered and the gap is
    logged with a stable code."""

    def __init__(self, store: TranscriptStore, redact: Callable[[str], str], clock: Callable[[], datetime],
                 ttl: timedelta):
        if ttl <= timedelta(0):
            raise ValueError("transcript ttl must be positive")
        self.store, self.redact, self.clock, self.ttl = store, redact, clock, ttl

    def _append(self, session_id: str, customer_id: str | None, entries: list[tuple[Role, str]],
                at: datetime | None) -> int:
        at = at or self.clock()
        try:
            clean = clean_entries((role, self.redact(text or "")) for role, text in entries)
            if not clean:
                return 0
            expires = int((at + self.ttl).timestamp())
            return len(self.store.append(session_id, customer_id or ANONYMOUS, clean, at, expires))
        except TranscriptFull:
            logger.warning("transcript not recorded", extra={"error_code": "transcript_full", "session_id": session_id})
        except Exception as exc:  # the conversation goes on; the agent reads a shorter transcript
            logger.warning("transcript not recorded", extra={"error_code": "transcript_store_failed",
                                                             "session_id": session_id, "error": type(exc).__name__})
        return 0

    def exchange(self, session_id: str, heard_by: str | None, heard: str, said_to: str | None, said: Iterable[str],
                 at: datetime | None = None) -> int:
        """One turn: the customer's words (owned by who was verified when they spoke) and our replies
        (owned by who was verified when we answered: a step-up inside the turn changes it).
        Returns how many records were stored."""
        said = [("assistant", t) for t in said]
        if (heard_by or ANONYMOUS) == (said_to or ANONYMOUS):
            return self._append(session_id, heard_by, [("customer", heard), *said], at)
        return self._append(session_id, heard_by, [("customer", heard)], at) + self._append(session_id, said_to, said, at)

    def conversation(self, session_id: str, customer_id: str | None, now: datetime | None = None) -> list[dict]:
        """The reader's messages as the context bundle takes them ({role, at, text}), oldest first."""
        try:
            return [t.as_message() for t in self.store.read(session_id, customer_id, now or self.clock())]
        except Exception as exc:
            logger.warning("transcript not read", extra={"error_code": "transcript_store_failed",
                                                         "session_id": session_id, "error": type(exc).__name__})
            return []


def next_turns(session_id: str, owner: str, entries: Sequence[tuple[Role, str]], at: datetime, expires_at: int,
               first_seq: int) -> list[TranscriptTurn]:
    """The records both stores write for ``entries`` starting at ``first_seq`` (TranscriptFull past the cap)."""
    if first_seq + len(entries) > MAX_STORED_TURNS:
        raise TranscriptFull(session_id)
    return [TranscriptTurn(session_id=session_id, seq=first_seq + i, owner=owner, role=role,
                           text=guard_text(text)[:MAX_TEXT_CHARS], at=at, expires_at=expires_at)
            for i, (role, text) in enumerate(entries)]

