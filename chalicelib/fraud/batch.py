"""One SQLite transaction per Kinesis batch, still exactly once per event, effects after the commit.

Why: applied one by one, every event paid for three commits of its own (the idempotency claim, its
completion, the ledger's order key), each on a fresh connection, and every decision opened four
more connections for the decision log: about 30 events/s. A Kinesis batch is already the unit of
delivery, so it becomes the unit of work:

- the batch is one ``BEGIN IMMEDIATE`` … ``COMMIT`` on the store's own connection (the ledger and
  the idempotency records share it); each event runs in a savepoint, so a failing event rolls back
  alone and is reported for retry while the others commit;
- an event is still idempotent on its own id: its result is stored under the same key the
  per-event :class:`~chalicelib.storage.idempotency.IdempotencyGuard` uses, inside the same
  transaction as its effects, so both paths see one truth;
- what leaves the database (the decision log, which lives behind its own connections, and the
  customer's notice) is written to ``fraud_pending_effects`` inside the transaction and carried out
  right after the commit (a transactional outbox). A crash between the two leaves the rows for the
  next batch to finish; both effects are idempotent (derived decision id, notice message id).
"""
from __future__ import annotations

import json
import logging
import sqlite3
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime, timezone
from typing import Any, Callable, Iterator

from chalicelib.outbox import Notice
from chalicelib.storage.idempotency import COMPLETED, IN_PROGRESS, DuplicateInProgress

log = logging.getLogger(__name__)
IDEMPOTENCY_TABLE = "governance_idempotency"
_SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {IDEMPOTENCY_TABLE} (id TEXT PRIMARY KEY, status TEXT NOT NULL, "
    "expiration INTEGER NOT NULL, in_progress_expiration INTEGER, data TEXT)",
    "CREATE TABLE IF NOT EXISTS fraud_pending_effects (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
    "kind TEXT NOT NULL, payload TEXT NOT NULL, at TEXT NOT NULL)",
)


class SqliteBatchUnit:
    """The unit of work over a :class:`~chalicelib.storage.sqlite.SqliteStore`'s connection."""

    def __init__(self, store, *, clock: Callable[[], float] | None = None):
        import time

        self.db = store._db  # the store's one connection and its lock
        self.clock = clock or time.time
        with self.db.lock:
            for stmt in _SCHEMA:
                self.db.conn.execute(stmt)

    @property
    def conn(self) -> sqlite3.Connection:
        return self.db.conn

    @contextmanager
    def batch(self) -> Iterator[None]:
        with self.db.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    @contextmanager
    def event(self) -> Iterator[None]:
        self.conn.execute("SAVEPOINT card_event")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK TO card_event")
            self.conn.execute("RELEASE card_event")
            raise
        self.conn.execute("RELEASE card_event")

    # ---- exactly once per event ----------------------------------------------------------------

    def stored_result(self, key: str) -> Any | None:
        """The stored result of ``key``; :class:`DuplicateInProgress` while another worker holds it."""
        row = self.conn.execute(
            f"SELECT status, expiration, in_progress_expiration, data FROM {IDEMPOTENCY_TABLE} WHERE id=?", (key,)
        ).fetchone()
        if row is None:
            return None
        status, expiration, ipe, data = row
        now = self.clock()
        if expiration <= now:
            return None
        if status == COMPLETED:
            return json.loads(data) if data is not None else None
        if status == IN_PROGRESS and (ipe is None or ipe > now * 1000):
            raise DuplicateInProgress(key)
        return None

    def complete(self, key: str, result: Any, ttl_s: int) -> Any:
        data = json.dumps(result, sort_keys=True, separators=(",", ":"), default=str)
        self.conn.execute(
            f"INSERT OR REPLACE INTO {IDEMPOTENCY_TABLE} (id, status, expiration, in_progress_expiration, data) "
            "VALUES (?,?,?,NULL,?)", (key, COMPLETED, int(self.clock() + ttl_s), data))
        return json.loads(data)

    # ---- effects after the commit --------------------------------------------------------------

    def defer(self, kind: str, payload: dict[str, Any]) -> None:
        self.conn.execute("INSERT INTO fraud_pending_effects (kind, payload, at) VALUES (?,?,?)",
                          (kind, json.dumps(payload, sort_keys=True, default=str),
                           datetime.now(timezone.utc).isoformat()))

    def drain(self, decision_log, notifier) -> int:
        """Carry out the committed effects, notices first (the customer is told first; a decision
        record costs several writes). A row goes once its effect succeeded; a failed one stays for
        the next drain and does not hold back the others. Returns how many were carried out."""
        with self.db.lock:
            rows = self.conn.execute(
                "SELECT seq, kind, payload FROM fraud_pending_effects ORDER BY kind = 'decision', seq").fetchall()
        done = 0
        decisions: list[tuple[int, dict[str, Any]]] = []
        for seq, kind, payload in rows:
            body = json.loads(payload)
            if kind == "decision":
                decisions.append((seq, body))
                continue
            try:
                notifier.send(Notice(**body))
            except Exception:
                log.exception("deferred %s failed; kept for the next batch", kind)
                continue
            self._forget([seq])  # at once: a notice must not be sent twice
            done += 1
        return done + self._record(decision_log, decisions)

    def _record(self, decision_log, decisions: list[tuple[int, dict[str, Any]]]) -> int:
        """The batch's decisions in one append (one transaction, one anchor write, in the order the
        events deferred them). If that fails, one by one, so a decision that cannot be recorded
        stays pending alone. A crash after the append and before the rows go is harmless: the
        next drain finds each decision id recorded and writes nothing twice."""
        if not decisions:
            return 0
        try:
            decision_log.record_many([body for _, body in decisions])
        except Exception:
            log.exception("batched decision append failed; recording them one by one")
        else:
            self._forget([seq for seq, _ in decisions])
            return len(decisions)
        done = 0
        for seq, body in decisions:
            try:
                decision_log.record(**body)
            except Exception:
                log.exception("deferred decision failed; kept for the next batch")
                continue
            self._forget([seq])
            done += 1
        return done

    def _forget(self, seqs: list[int]) -> None:
        with self.db.tx() as c:
            c.executemany("DELETE FROM fraud_pending_effects WHERE seq=?", [(s,) for s in seqs])


class DeferredDecisionLog:
    """What the fraud actions see as the decision log inside a batch: a record becomes a pending row."""

    def __init__(self, unit: SqliteBatchUnit):
        self.unit = unit

    def record(self, **kwargs: Any) -> None:
        if not kwargs.get("decision_id"):
            raise ValueError("a deferred decision needs its derived decision_id (replays must find it)")
        self.unit.defer("decision", kwargs)


class DeferredNotifier:
    """What the fraud actions see as the notifier inside a batch: the notice is sent after the commit."""

    def __init__(self, unit: SqliteBatchUnit, check: Callable[[Notice], None]):
        self.unit = unit
        self.check = check

    def send(self, notice: Notice) -> str:
        self.check(notice)  # refuse a card number now, inside the event, not after the commit
        self.unit.defer("notice", asdict(notice))
        return f"queued:{notice.message_id}"
