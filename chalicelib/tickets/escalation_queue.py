"""Where escalation requests go: SQS in AWS (the ``escalation_worker`` Lambda consumes it, with a
dead-letter queue), and locally a queue in an SQLite file drained in line after each send, with the
same redrive rule. Both hand the worker the same SQS-shaped record with the serialised message, so
what runs locally is the path that runs in AWS.

``send`` returns the worker's result when the request was worked in line (locally), None when it
was only queued (SQS): the desk then quotes the reference derived from the request.
"""
from __future__ import annotations

import sqlite3
import time
import uuid
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol

from chalicelib.storage.base import RepositoryError
from chalicelib.tickets.escalation import SCHEMA, VERSION, EscalationRequest
from chalicelib.tickets.escalation_worker import EscalationWorker, Worked, error_code


class EscalationQueue(Protocol):
    def send(self, request: EscalationRequest) -> Worked | None: ...


class EscalationQueueUnavailable(RepositoryError):
    """The request could not be queued (SQS refused or timed out): the caller's retry sends it again."""

    code = "escalation.queue.unavailable"


def sqs_record(message_id: str, body: str, receive_count: int = 1, queue_arn: str = "arn:aws:sqs:local:0:da-escalations") -> dict:
    """An SQS event record as Lambda hands it to ``@app.on_sqs_message`` (the fields the worker reads
    and the ones a person reading a dead letter expects)."""
    return {
        "messageId": message_id, "receiptHandle": f"local-{message_id}", "body": body,
        "attributes": {"ApproximateReceiveCount": str(receive_count), "SentTimestamp": str(int(time.time() * 1000))},
        "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs", "eventSourceARN": queue_arn,
        "awsRegion": "local",
    }


class DirectEscalationQueue:
    """The worker called in line through the serialised message (unit tests of the desk): a failure
    raises to the caller, who retries."""

    def __init__(self, worker: EscalationWorker):
        self.worker = worker

    def send(self, request: EscalationRequest) -> Worked:
        return self.worker.handle_record(sqs_record(str(uuid.uuid4()), request.to_body()))


class SqsEscalationQueue:
    def __init__(self, sqs_client: Any, queue_url: str):
        self.client, self.queue_url = sqs_client, queue_url

    def send(self, request: EscalationRequest) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.send_message(
                QueueUrl=self.queue_url, MessageBody=request.to_body(),
                MessageAttributes={"schema": {"DataType": "String", "StringValue": f"{SCHEMA}/{VERSION}"},
                                   "ticket_id": {"DataType": "String", "StringValue": request.ticket_id}},
            )
        except (BotoCoreError, ClientError) as exc:
            raise EscalationQueueUnavailable(f"[{EscalationQueueUnavailable.code}] {type(exc).__name__}") from exc
        return None


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    body: str
    receives: int
    error_code: str


_SCHEMA = """
CREATE TABLE IF NOT EXISTS escalation_queue (
    message_id      TEXT PRIMARY KEY,
    body            TEXT NOT NULL,
    sent_at         REAL NOT NULL,
    receives        INTEGER NOT NULL DEFAULT 0,
    invisible_until REAL NOT NULL DEFAULT 0,
    last_error      TEXT
);
CREATE TABLE IF NOT EXISTS escalation_dead_letters (
    message_id TEXT PRIMARY KEY,
    body       TEXT NOT NULL,
    receives   INTEGER NOT NULL,
    error_code TEXT NOT NULL,
    dead_at    REAL NOT NULL
);
"""


class LocalEscalationQueue:
    """SQS's contract on one SQLite file: a received message is invisible for ``visibility_s``; a
    worked one is deleted; a failed one becomes visible again, and after ``max_receives`` receives it
    moves to the dead letters with its error code (nothing is dropped). Each send drains every
    visible message in line, so an earlier failure is retried by the next escalation."""

    def __init__(self, path: str | Path, worker: EscalationWorker, *, max_receives: int = 5,
                 visibility_s: float = 60.0, clock: Callable[[], float] = time.time):
        self.path, self.worker = Path(path), worker
        self.max_receives, self.visibility_s, self.clock = max_receives, visibility_s, clock
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as c:
            c.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(str(self.path), timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    def send(self, request: EscalationRequest) -> Worked | None:
        message_id = self.send_body(request.to_body())
        return self.drain().get(message_id)

    def send_body(self, body: str) -> str:
        """Queue a body as it is (what another release's producer may have sent); its message id."""
        message_id = str(uuid.uuid4())
        with closing(self._connect()) as c:
            c.execute("INSERT INTO escalation_queue (message_id, body, sent_at) VALUES (?, ?, ?)",
                      (message_id, body, self.clock()))
        return message_id

    def _receive(self, c: sqlite3.Connection, message_id: str) -> int | None:
        """Take the message for one visibility window (atomically: one receiver); its receive count."""
        now = self.clock()
        cur = c.execute("UPDATE escalation_queue SET receives = receives + 1, invisible_until = ? "
                        "WHERE message_id = ? AND invisible_until <= ?", (now + self.visibility_s, message_id, now))
        if cur.rowcount != 1:
            return None
        return c.execute("SELECT receives FROM escalation_queue WHERE message_id = ?", (message_id,)).fetchone()[0]

    def drain(self) -> dict[str, Worked]:
        """Work every visible message once; returns the results of those that succeeded."""
        done: dict[str, Worked] = {}
        with closing(self._connect()) as c:
            rows = c.execute("SELECT message_id, body FROM escalation_queue WHERE invisible_until <= ? "
                             "ORDER BY sent_at, message_id", (self.clock(),)).fetchall()
            for message_id, body in rows:
                receives = self._receive(c, message_id)
                if receives is None:
                    continue  # another drain took it
                try:
                    done[message_id] = self.worker.handle_record(sqs_record(message_id, body, receives))
                except Exception as exc:  # noqa: BLE001 - the message stays queued or goes to the dead letters
                    self._failed(c, message_id, body, receives, error_code(exc))
                    continue
                c.execute("DELETE FROM escalation_queue WHERE message_id = ?", (message_id,))
        return done

    def _failed(self, c: sqlite3.Connection, message_id: str, body: str, receives: int, code: str) -> None:
        if receives >= self.max_receives:
            c.execute("BEGIN IMMEDIATE")
            c.execute("INSERT OR REPLACE INTO escalation_dead_letters VALUES (?, ?, ?, ?, ?)",
                      (message_id, body, receives, code, self.clock()))
            c.execute("DELETE FROM escalation_queue WHERE message_id = ?", (message_id,))
            c.execute("COMMIT")
        else:
            c.execute("UPDATE escalation_queue SET invisible_until = 0, last_error = ? WHERE message_id = ?",
                      (code, message_id))

    def pending(self) -> int:
        with closing(self._connect()) as c:
            return c.execute("SELECT COUNT(*) FROM escalation_queue").fetchone()[0]

    def dead_letters(self) -> list[DeadLetter]:
        with closing(self._connect()) as c:
            rows = c.execute("SELECT message_id, body, receives, error_code FROM escalation_dead_letters "
                             "ORDER BY dead_at, message_id").fetchall()
        return [DeadLetter(*r) for r in rows]
