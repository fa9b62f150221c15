"""Where rollout stages, guard observations and stage history live: SQLite locally; in AWS the stage in
SSM and the observations and history in DynamoDB (:mod:`chalicelib.governance.rollout_dynamodb`).

Why beside the controls: a stage is a run-time switch like the kill switch (an operator or the
automatic rollback flips it without a deploy), so in AWS it is an SSM parameter under the controls
prefix (``<prefix>rollout/<capability>``, JSON ``{"stage": 25, "since": "..."}``) that the
functions already may read; locally it is a table in the one SQLite file. Observations (one row per
decision of a capability) and the history of stage changes are SQLite tables locally and one shared
DynamoDB table in AWS (every container's decisions count towards one guard).
"""
from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path


def utc_key(at: datetime) -> str:
    """A time as the stores key it: UTC ISO, so string order is time order whatever zone a caller used."""
    if at.tzinfo is None:
        raise ValueError("rollout times must be timezone-aware")
    return at.astimezone(timezone.utc).isoformat()


@dataclass(frozen=True)
class Observation:
    """One decision of a capability, as the guards see it."""

    escalated: bool = False
    overturned: bool = False
    disagreed_with_rules: bool = False
    cost_usd: float = 0.0
    confidence: float | None = None  # the classifier's top-label confidence, when one was involved
    label: str | None = None  # the category it read


@dataclass(frozen=True)
class StageChange:
    capability: str
    at: str
    from_stage: int
    to_stage: int
    reason: str


class SqliteRolloutStore:
    def __init__(self, path: str | Path):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._lock = threading.Lock()
        with self._lock:
            self._conn.execute("CREATE TABLE IF NOT EXISTS governance_rollout (capability TEXT PRIMARY KEY, "
                               "stage INTEGER NOT NULL, since TEXT NOT NULL)")
            self._conn.execute("CREATE TABLE IF NOT EXISTS governance_rollout_obs (capability TEXT NOT NULL, "
                               "at TEXT NOT NULL, escalated INTEGER, overturned INTEGER, disagreed INTEGER, "
                               "cost REAL, confidence REAL, label TEXT)")
            self._conn.execute("CREATE INDEX IF NOT EXISTS governance_rollout_obs_at ON governance_rollout_obs "
                               "(capability, at)")
            self._conn.execute("CREATE TABLE IF NOT EXISTS governance_rollout_history (seq INTEGER PRIMARY KEY "
                               "AUTOINCREMENT, capability TEXT NOT NULL, at TEXT NOT NULL, from_stage INTEGER, "
                               "to_stage INTEGER, reason TEXT)")

    def get_stage(self, capability: str) -> tuple[int, str] | None:
        with self._lock:
            row = self._conn.execute("SELECT stage, since FROM governance_rollout WHERE capability=?",
                                     (capability,)).fetchone()
        return (row[0], row[1]) if row else None

    def set_stage(self, capability: str, stage: int, since: datetime, reason: str, from_stage: int) -> None:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            self._conn.execute("INSERT OR REPLACE INTO governance_rollout (capability, stage, since) VALUES (?,?,?)",
                               (capability, stage, utc_key(since)))
            self._conn.execute("INSERT INTO governance_rollout_history (capability, at, from_stage, to_stage, reason) "
                               "VALUES (?,?,?,?,?)", (capability, utc_key(since), from_stage, stage, reason))
            self._conn.execute("COMMIT")

    def history(self, capability: str) -> list[StageChange]:
        with self._lock:
            rows = self._conn.execute("SELECT capability, at, from_stage, to_stage, reason FROM "
                                      "governance_rollout_history WHERE capability=? ORDER BY seq",
                                      (capability,)).fetchall()
        return [StageChange(*r) for r in rows]

    def observe(self, capability: str, at: datetime, obs: Observation) -> None:
        with self._lock:
            self._conn.execute("INSERT INTO governance_rollout_obs VALUES (?,?,?,?,?,?,?,?)",
                               (capability, utc_key(at), int(obs.escalated), int(obs.overturned),
                                int(obs.disagreed_with_rules), obs.cost_usd, obs.confidence, obs.label))

    def reset(self) -> None:
        """Forget every stage, its history and every observation (demo reseeding)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            for table in ("governance_rollout", "governance_rollout_history", "governance_rollout_obs"):
                self._conn.execute(f"DELETE FROM {table}")
            self._conn.execute("COMMIT")

    def observations(self, capability: str, since: datetime, until: datetime) -> list[Observation]:
        with self._lock:
            rows = self._conn.execute("SELECT escalated, overturned, disagreed, cost, confidence, label FROM "
                                      "governance_rollout_obs WHERE capability=? AND at>=? AND at<=?",
                                      (capability, utc_key(since), utc_key(until))).fetchall()
        return [Observation(bool(e), bool(o), bool(d), c or 0.0, conf, label) for e, o, d, c, conf, label in rows]


class SsmStageStore:
    """Stages as SSM parameters under the controls prefix; observations and history delegated."""

    def __init__(self, ssm_client, prefix: str, records: SqliteRolloutStore):
        self.ssm = ssm_client
        self.prefix = prefix.rstrip("/") + "/rollout/"
        self.records = records

    def get_stage(self, capability: str) -> tuple[int, str] | None:
        try:
            value = self.ssm.get_parameter(Name=self.prefix + capability)["Parameter"]["Value"]
        except self.ssm.exceptions.ParameterNotFound:
            return None
        data = json.loads(value)
        return int(data["stage"]), str(data["since"])

    def set_stage(self, capability, stage, since, reason, from_stage) -> None:
        self.ssm.put_parameter(Name=self.prefix + capability, Type="String", Overwrite=True,
                               Value=json.dumps({"stage": stage, "since": utc_key(since)}))
        self.records.set_stage(capability, stage, since, reason, from_stage)

    def history(self, capability):
        return self.records.history(capability)

    def observe(self, capability, at, obs):
        self.records.observe(capability, at, obs)

    def observations(self, capability, since, until):
        return self.records.observations(capability, since, until)
