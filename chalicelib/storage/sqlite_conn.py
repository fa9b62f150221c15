"""The SQLite connection every SQLite store shares (the repositories here and the ticket store).

One connection, shared by every thread behind a lock: ``chalice local`` serves requests from a
thread pool, and a single serialised connection in WAL mode is both simpler and faster than a
connection per thread for a store this size (a lookup is well under a millisecond). The
connection settings (autocommit with explicit transactions, busy timeout) live here once so two
stores on one file cannot disagree about them.
"""
from __future__ import annotations

import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, TypeVar

from pydantic import BaseModel

from chalicelib.storage.base import AlreadyExists, NotFound, RepositoryError

M = TypeVar("M", bound=BaseModel)


def open_connection(path: str | Path, *, wal: bool, busy_timeout_s: float = 5.0) -> sqlite3.Connection:
    """A connection any thread may use (callers serialise it with their own lock).

    isolation_level=None: callers issue BEGIN/COMMIT themselves, so a read-check-write is one
    IMMEDIATE transaction and cannot interleave with another process. ``wal``: readers do not
    wait for the writer (file databases only; ``:memory:`` has no journal to switch).
    ``busy_timeout_s``: how long a write waits for another process's lock (the idempotency store
    and the card-event ledger wait longer: many worker processes claim keys on one file).
    """
    path = str(path)
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=busy_timeout_s)
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
    if wal and path != ":memory:":
        enable_wal(conn, busy_timeout_s)
        conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def enable_wal(conn: sqlite3.Connection, timeout_s: float, pause_s: float = 0.01) -> None:
    """Put the file in WAL mode, waiting up to ``timeout_s`` for other processes.

    Switching the journal mode needs the file to itself, and SQLite can answer "database is
    locked" at once, without its busy handler, while another process creates or opens the same
    new file (measured: four load-test workers opening one transcripts file together). The mode
    is persistent, so a file already in WAL needs no switch; otherwise the switch is retried."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if time.monotonic() >= deadline:
                raise
            time.sleep(pause_s)


class SqliteDb:
    """The shared connection and its lock; every repository goes through ``tx``, ``read`` or ``insert``."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        self.lock = threading.RLock()
        self.conn = open_connection(self.path, wal=True)

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            # Inside an open transaction (a caller's unit of work, e.g. one Kinesis batch) a tx is a
            # savepoint: it still rolls back alone, and the caller's COMMIT makes it durable.
            begin, commit, undo = (("SAVEPOINT tx", "RELEASE tx", ("ROLLBACK TO tx", "RELEASE tx"))
                                   if self.conn.in_transaction else ("BEGIN IMMEDIATE", "COMMIT", ("ROLLBACK",)))
            try:
                self.conn.execute(begin)
                try:
                    yield self.conn
                except BaseException:
                    for stmt in undo:
                        self.conn.execute(stmt)
                    raise
                self.conn.execute(commit)
            except (AlreadyExists, NotFound, RepositoryError):
                raise
            except sqlite3.Error as exc:
                raise RepositoryError(f"sqlite: {exc}") from exc

    def read(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self.lock:
            try:
                return self.conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise RepositoryError(f"sqlite: {exc}") from exc

    def insert(self, sql: str, params: tuple, exists: str) -> None:
        """One INSERT in its own transaction; a key (or unique column) already taken raises
        ``AlreadyExists(exists)`` instead of a storage error, so a replay is told apart from an outage."""
        try:
            with self.tx() as c:
                c.execute(sql, params)
        except RepositoryError as exc:
            if isinstance(exc.__cause__, sqlite3.IntegrityError):
                raise AlreadyExists(exists) from exc
            raise

    def executescript(self, script: str) -> None:
        with self.lock:
            try:
                self.conn.executescript(script)
            except sqlite3.Error as exc:
                raise RepositoryError(f"sqlite: {exc}") from exc

    def close(self) -> None:
        with self.lock:
            self.conn.close()


def load_rows(model: type[M], rows: list[tuple]) -> list[M]:
    """The models stored whole in the first column (``data``) of each row."""
    return [model.model_validate_json(r[0]) for r in rows]


def load_one(model: type[M], rows: list[tuple]) -> M | None:
    return model.model_validate_json(rows[0][0]) if rows else None
