"""Fixtures: one decision log / idempotency store per backend (SQLite and DynamoDB under moto)."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import yaml

from chalicelib.governance.decision_log import (
    DecisionLog,
    DynamoDecisionStore,
    DynamoPseudonymVault,
    SqliteDecisionStore,
    SqlitePseudonymVault,
)
from chalicelib.governance.decision_log.anchor import FileHeadAnchor, SsmHeadAnchor, anchor_file_for
from chalicelib.governance.policy import POLICY_DIR, Policy, PolicyStore
from tests.support.aws import atomic_requests

BASE_POLICY = POLICY_DIR / "policy-2026-11-01.yaml"


@pytest.fixture
def policy() -> Policy:
    return Policy.load(BASE_POLICY)


def base_policy_data() -> dict:
    return yaml.safe_load(BASE_POLICY.read_text())


def write_policy(directory: Path, data: dict, name: str | None = None) -> Path:
    path = directory / (name or f"policy-{data['version']}.yaml")
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


class Tamper:
    """Edits stored records behind the log's back, as a privileged attacker with table access would."""

    def __init__(self, kind: str, log: DecisionLog):
        self.kind = kind
        self.log = log

    def edit(self, seq: int, change) -> None:
        """Apply ``change(dict) -> None`` to the stored JSON of record ``seq``, keeping the stored hash."""
        if self.kind == "sqlite":
            path = self.log.store.path
            with sqlite3.connect(path) as c:
                c.execute(f"DROP TRIGGER IF EXISTS {SqliteDecisionStore.TABLE}_no_update")
                doc = json.loads(c.execute(f"SELECT doc FROM {SqliteDecisionStore.TABLE} WHERE seq=?", (seq,)).fetchone()[0])
                change(doc)
                c.execute(f"UPDATE {SqliteDecisionStore.TABLE} SET doc=? WHERE seq=?", (json.dumps(doc), seq))
        else:
            store = self.log.store
            item = store.client.get_item(TableName=store.table, Key={"pk": {"S": "chain"}, "sk": {"N": str(seq)}})["Item"]
            doc = json.loads(item["doc"]["S"])
            change(doc)
            store.client.update_item(
                TableName=store.table,
                Key={"pk": {"S": "chain"}, "sk": {"N": str(seq)}},
                UpdateExpression="SET #d = :d",
                ExpressionAttributeNames={"#d": "doc"},
                ExpressionAttributeValues={":d": {"S": json.dumps(doc)}},
            )

    def set_column(self, seq: int, column: str, value: str) -> None:
        """Rewrite one indexed column (``at`` / ``customer_ref``) of record ``seq``, leaving the doc alone."""
        if self.kind == "sqlite":
            with sqlite3.connect(self.log.store.path) as c:
                c.execute(f"DROP TRIGGER IF EXISTS {SqliteDecisionStore.TABLE}_no_update")
                c.execute(f"UPDATE {SqliteDecisionStore.TABLE} SET {column}=? WHERE seq=?", (value, seq))
        else:
            store = self.log.store
            store.client.update_item(
                TableName=store.table, Key={"pk": {"S": "chain"}, "sk": {"N": str(seq)}},
                UpdateExpression="SET #c = :v", ExpressionAttributeNames={"#c": column},
                ExpressionAttributeValues={":v": {"S": value}},
            )

    def rechain_from(self, seq: int, change) -> None:
        """Rewrite record ``seq`` and re-hash it and every later record so the chain verifies on its own."""
        from chalicelib.governance.decision_log import canonical_json, compute_hash

        prev = None
        for rec in list(self.log.store.records()):
            if rec.seq < seq:
                prev = rec.hash
                continue
            doc = json.loads(rec.doc)
            if rec.seq == seq:
                change(doc)
            doc["prev_hash"] = prev or doc["prev_hash"]
            doc["hash"] = compute_hash(doc)
            prev = doc["hash"]
            self._put(rec.seq, canonical_json(doc), doc["hash"])

    def _put(self, seq: int, doc: str, hash: str) -> None:
        if self.kind == "sqlite":
            with sqlite3.connect(self.log.store.path) as c:
                c.execute(f"DROP TRIGGER IF EXISTS {SqliteDecisionStore.TABLE}_no_update")
                c.execute(f"UPDATE {SqliteDecisionStore.TABLE} SET doc=?, hash=? WHERE seq=?", (doc, hash, seq))
        else:
            store = self.log.store
            store.client.update_item(
                TableName=store.table, Key={"pk": {"S": "chain"}, "sk": {"N": str(seq)}},
                UpdateExpression="SET #d = :d, #h = :h", ExpressionAttributeNames={"#d": "doc", "#h": "hash"},
                ExpressionAttributeValues={":d": {"S": doc}, ":h": {"S": hash}},
            )

    def delete(self, seq: int) -> None:
        if self.kind == "sqlite":
            with sqlite3.connect(self.log.store.path) as c:
                c.execute(f"DROP TRIGGER IF EXISTS {SqliteDecisionStore.TABLE}_no_delete")
                c.execute(f"DELETE FROM {SqliteDecisionStore.TABLE} WHERE seq=?", (seq,))
        else:
            store = self.log.store
            store.client.delete_item(TableName=store.table, Key={"pk": {"S": "chain"}, "sk": {"N": str(seq)}})


def make_log(kind: str, tmp_path: Path) -> DecisionLog:
    if kind == "sqlite":
        db = tmp_path / "governance.db"
        log = DecisionLog(SqliteDecisionStore(db), SqlitePseudonymVault(db), anchor=FileHeadAnchor(anchor_file_for(db)))
    else:
        import boto3

        client = atomic_requests(boto3.client("dynamodb", region_name="us-east-1"))
        ssm = boto3.client("ssm", region_name="us-east-1")
        log = DecisionLog(DynamoDecisionStore(client, "t-decisions"), DynamoPseudonymVault(client, "t-pseudonym-keys"),
                          anchor=SsmHeadAnchor(ssm, "/t/decision-log/head"))
    log.create_schema()
    return log


@pytest.fixture(params=["sqlite", "dynamodb"])
def backend(request, tmp_path, aws_env):
    """(kind, DecisionLog, Tamper) on each backend."""
    if request.param == "sqlite":
        log = make_log("sqlite", tmp_path)
        yield request.param, log, Tamper("sqlite", log)
        return
    from moto import mock_aws

    with mock_aws():
        log = make_log("dynamodb", tmp_path)
        yield request.param, log, Tamper("dynamodb", log)


@pytest.fixture
def decision_log(backend) -> DecisionLog:
    return backend[1]


@pytest.fixture
def policy_store(tmp_path) -> PolicyStore:
    """A store over a private copy of the shipped policies (tests add versions without touching the repo)."""
    d = tmp_path / "policies"
    d.mkdir()
    for p in POLICY_DIR.glob("*.yaml"):
        (d / p.name).write_bytes(p.read_bytes())
    return PolicyStore(directory=d)
