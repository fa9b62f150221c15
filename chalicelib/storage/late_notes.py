"""Late-turn notes: what a turn that overran its time budget did, kept for the session's next turn.

Why a store of its own: the hook answers "taking longer than it should" when a turn passes its
budget, but the turn goes on in its worker and may still file the dispute. When it finishes, its
reply is posted here, and the session's next turn opens with it. In Lambda that next turn may
reach another container (or this one after it was recycled), so the note must live in the shared
store, not in the process. The note is the customer's only way to learn the truth, so:

- every note is its own row / item (an append never rewrites another note, so two late turns of
  one session cannot overwrite each other);
- ``take`` hands a note to exactly one reader: SQLite in one IMMEDIATE transaction, DynamoDB by a
  conditional delete per note (a note whose delete lost the race belongs to the other reader);
- notes expire after ``late_note_ttl_s`` (DynamoDB's TTL on ``expires_at``; SQLite prunes on write),
  and an expired note is never told.

Notes pass the PAN guard before they are stored (they hold reply text and session attributes).
"""
from __future__ import annotations

import json
import time
import uuid
from typing import Any, Callable, Protocol

from chalicelib.core.pci import guard_value
from chalicelib.storage.sqlite_conn import SqliteDb

LATE_NOTE_INVALID = "late_note_invalid"
MAX_SESSION_KEY = 200


class LateNoteError(ValueError):
    """A note that cannot be stored as asked (code ``late_note_invalid``)."""

    code = LATE_NOTE_INVALID

    def __init__(self, message: str):
        super().__init__(f"{LATE_NOTE_INVALID}: {message}")


def _check_session(session: str) -> None:
    if not isinstance(session, str) or not session or len(session) > MAX_SESSION_KEY:
        raise LateNoteError("the session key must be a non-empty string of at most 200 characters")


def _encode(note: dict) -> str:
    try:
        return json.dumps(guard_value(note), sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise LateNoteError(f"the note is not JSON: {exc}") from exc


class LateNoteStore(Protocol):
    def create_schema(self) -> None: ...
    def append(self, session: str, note: dict, now_s: float, expires_at: int) -> None: ...
    def take(self, session: str, now_s: float) -> list[dict]:
        """The session's live notes, oldest first, each handed to exactly one caller."""
        ...

    def peek(self, session: str, now_s: float) -> list[dict]:
        """The session's live notes, oldest first, left in place."""
        ...


class SqliteLateNoteStore:
    TABLE = "late_turn_notes"

    def __init__(self, path):
        self.db = SqliteDb(path)

    def create_schema(self) -> None:
        self.db.executescript(
            f"""CREATE TABLE IF NOT EXISTS {self.TABLE} (
                seq INTEGER PRIMARY KEY AUTOINCREMENT, session TEXT NOT NULL, note TEXT NOT NULL,
                expires_at INTEGER NOT NULL);
            CREATE INDEX IF NOT EXISTS {self.TABLE}_by_session ON {self.TABLE} (session, seq);"""
        )

    def append(self, session, note, now_s, expires_at):
        _check_session(session)
        doc = _encode(note)
        with self.db.tx() as c:
            c.execute(f"DELETE FROM {self.TABLE} WHERE expires_at <= ?", (int(now_s),))
            c.execute(f"INSERT INTO {self.TABLE} (session, note, expires_at) VALUES (?,?,?)", (session, doc, expires_at))

    def _live(self, c, session: str, now_s: float) -> list[tuple[int, str]]:
        return c.execute(f"SELECT seq, note FROM {self.TABLE} WHERE session=? AND expires_at > ? ORDER BY seq",
                         (session, int(now_s))).fetchall()

    def take(self, session, now_s):
        _check_session(session)
        with self.db.tx() as c:
            rows = self._live(c, session, now_s)
            c.execute(f"DELETE FROM {self.TABLE} WHERE session=?", (session,))
        return [json.loads(note) for _, note in rows]

    def peek(self, session, now_s):
        _check_session(session)
        with self.db.tx() as c:
            rows = self._live(c, session, now_s)
        return [json.loads(note) for _, note in rows]


class DynamoLateNoteStore:
    """Table ``Settings.tables.late_notes``: partition ``session``, sort ``note_id`` (time-ordered),
    ``note`` the JSON, ``expires_at`` epoch seconds (the table's TTL attribute)."""

    def __init__(self, client, table_name: str):
        self.client = client
        self.table = table_name

    def create_schema(self) -> None:
        from chalicelib.core.aws import create_table_if_missing

        create_table_if_missing(
            self.client, TableName=self.table,
            AttributeDefinitions=[{"AttributeName": "session", "AttributeType": "S"},
                                  {"AttributeName": "note_id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "session", "KeyType": "HASH"},
                       {"AttributeName": "note_id", "KeyType": "RANGE"}],
        )

    def append(self, session, note, now_s, expires_at):
        _check_session(session)
        note_id = f"{int(now_s * 1_000_000):020d}-{uuid.uuid4().hex[:12]}"
        self.client.put_item(
            TableName=self.table,
            Item={"session": {"S": session}, "note_id": {"S": note_id}, "note": {"S": _encode(note)},
                  "expires_at": {"N": str(int(expires_at))}},
            ConditionExpression="attribute_not_exists(note_id)",
        )

    def _items(self, session: str) -> list[dict]:
        items, start = [], None
        while True:
            kwargs: dict[str, Any] = {"ExclusiveStartKey": start} if start else {}
            page = self.client.query(TableName=self.table, KeyConditionExpression="#s = :s", ConsistentRead=True,
                                     ExpressionAttributeNames={"#s": "session"},
                                     ExpressionAttributeValues={":s": {"S": session}}, **kwargs)
            items.extend(page.get("Items", []))
            start = page.get("LastEvaluatedKey")
            if not start:
                return items

    def take(self, session, now_s):
        _check_session(session)
        taken = []
        for item in self._items(session):
            try:
                self.client.delete_item(TableName=self.table, Key={"session": item["session"], "note_id": item["note_id"]},
                                        ConditionExpression="attribute_exists(note_id)")
            except self.client.exceptions.ConditionalCheckFailedException:
                continue  # another reader took it: it is theirs to tell
            if int(item["expires_at"]["N"]) > now_s:  # TTL deletes lazily: an expired note is never told
                taken.append(json.loads(item["note"]["S"]))
        return taken

    def peek(self, session, now_s):
        _check_session(session)
        return [json.loads(i["note"]["S"]) for i in self._items(session) if int(i["expires_at"]["N"]) > now_s]


class LateNotes:
    """The session mailbox the hook posts an overrun turn's result to and the next turn reads."""

    def __init__(self, store: LateNoteStore, *, ttl_s: int = 24 * 3600, clock: Callable[[], float] = time.time):
        self.store = store
        self.ttl_s = ttl_s
        self.clock = clock

    def post(self, session_id: str, messages: list[str], session: dict[str, str] | None, *, failed: bool) -> None:
        """Record what the overrun turn said (or that it failed) for the session's next turn."""
        now = self.clock()
        note = {"messages": [str(m) for m in messages], "session": dict(session or {}), "failed": bool(failed)}
        self.store.append(session_id, note, now, int(now + self.ttl_s))

    def take(self, session_id: str) -> list[dict]:
        """The notes not yet told (oldest first), removed as they are handed over."""
        return self.store.take(session_id, self.clock())

    def pending(self, session_id: str) -> list[dict]:
        return self.store.peek(session_id, self.clock())


def build_late_notes(settings, *, dynamodb_client=None, clock: Callable[[], float] = time.time) -> LateNotes:
    """The configured backend's mailbox: the DynamoDB table in AWS (the template creates it), the
    SQLite file locally (its table created here)."""
    if settings.backend == "dynamodb":
        if dynamodb_client is None:
            from chalicelib.core.aws import client as aws_client

            dynamodb_client = aws_client("dynamodb", settings)
        store: LateNoteStore = DynamoLateNoteStore(dynamodb_client, settings.tables.late_notes)
    else:
        store = SqliteLateNoteStore(settings.sqlite_path)
        store.create_schema()
    return LateNotes(store, ttl_s=settings.late_note_ttl_s, clock=clock)
