"""Transcripts in SQLite: one row per turn, ordered by a per-session sequence assigned inside one
IMMEDIATE transaction (two writers on one session cannot take the same number)."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Sequence

from chalicelib.storage.sqlite_conn import SqliteDb, load_rows
from chalicelib.transcripts.model import Role, TranscriptTurn, next_turns, visible_to

SCHEMA = """
CREATE TABLE IF NOT EXISTS transcript_turns (
    session_id TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    data       TEXT NOT NULL,
    PRIMARY KEY (session_id, seq)
);
CREATE INDEX IF NOT EXISTS transcript_turns_by_expiry ON transcript_turns (expires_at);
"""


class SqliteTranscriptStore:
    def __init__(self, path: str | Path):
        self._db = SqliteDb(path)

    def create_schema(self) -> None:
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def append(self, session_id: str, owner: str, entries: Sequence[tuple[Role, str]], at: datetime,
               expires_at: int) -> list[TranscriptTurn]:
        with self._db.tx() as c:
            # Expired turns go on the next write (DynamoDB's TTL does the same for its twin).
            c.execute("DELETE FROM transcript_turns WHERE expires_at <= ?", (int(at.timestamp()),))
            last = c.execute("SELECT MAX(seq) FROM transcript_turns WHERE session_id = ?", (session_id,)).fetchone()[0]
            turns = next_turns(session_id, owner, entries, at, expires_at, 0 if last is None else last + 1)
            c.executemany("INSERT INTO transcript_turns (session_id, seq, expires_at, data) VALUES (?, ?, ?, ?)",
                          [(t.session_id, t.seq, t.expires_at, t.model_dump_json()) for t in turns])
        return turns

    def read(self, session_id: str, reader: str | None, now: datetime) -> list[TranscriptTurn]:
        rows = self._db.read("SELECT data FROM transcript_turns WHERE session_id = ? AND expires_at > ? ORDER BY seq",
                             (session_id, int(now.timestamp())))
        return visible_to(load_rows(TranscriptTurn, rows), reader)
