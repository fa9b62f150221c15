"""One ingestion world per backend: a moto S3 bucket holding raw mail, and the store, decision log
and idempotency guard on SQLite or on DynamoDB (moto), wired into the real service with the real
triage pipeline (``nlp.triage.triage_email``), so these tests exercise what runs in Lambda."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from chalicelib.core.settings import Settings
from tests.support.aws import atomic_requests

REPO_ROOT = Path(__file__).resolve().parents[2]
EMAILS = REPO_ROOT.parent / "shared" / "data" / "emails"
BUCKET = "da-raw-mail"
ANCHOR = date(2026, 11, 1)
# The day the consumer reads the mail: the day after the demo data's anchor, whatever the date of the
# run, so payments stay inside the payment search's window (chalicelib/payments/search.py).
READ_AT = datetime(2026, 11, 2, 9, 30, tzinfo=timezone.utc)

@dataclass
class World:
    kind: str
    s3: Any
    store: Any
    decision_log: Any
    guard: Any
    service: Any
    triage_calls: list = field(default_factory=list)

    def put(self, key: str, raw: bytes) -> None:
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=raw)

    def decisions(self) -> list:
        return list(self.decision_log.iter_decisions())


def _seed_alice(store) -> None:
    """Only the two fixed demo customers (the full demo set is 6,000 transactions: slow on moto)."""
    from chalicelib.demo.demo_data import build

    data = build(ANCHOR)
    keep = {"demo-alice", "demo-bob"}
    for c in data.customers:
        if c.customer_id in keep:
            store.customers.put(c)
    store.transactions.put_many([t for t in data.transactions if t.customer_id in keep])
    for case in data.cases:
        if case.customer_id in keep:
            store.cases.create(case)


def _build(kind: str, tmp_path: Path, **service_kw) -> World:
    import boto3

    from chalicelib.governance.decision_log import (
        DecisionLog,
        DynamoDecisionStore,
        DynamoPseudonymVault,
        SqliteDecisionStore,
        SqlitePseudonymVault,
    )
    from chalicelib.ingest.email_ingest import build_email_ingest_service
    from chalicelib.storage.idempotency import DynamoIdempotencyStore, IdempotencyGuard, SqliteIdempotencyStore
    from nlp.redact import redact
    from nlp.triage import triage_email

    s3 = atomic_requests(boto3.client("s3", region_name="us-east-1"))
    s3.create_bucket(Bucket=BUCKET)
    settings = Settings(backend=kind, sqlite_path=tmp_path / "store.db", raw_mail_bucket=BUCKET)
    if kind == "sqlite":
        from chalicelib.storage.sqlite import SqliteStore

        store = SqliteStore(tmp_path / "store.db")
        gov = tmp_path / "governance.db"
        log = DecisionLog(SqliteDecisionStore(gov), SqlitePseudonymVault(gov))
        idem_store = SqliteIdempotencyStore(gov)
    else:
        from chalicelib.storage.dynamodb import DynamoStore

        ddb = atomic_requests(boto3.client("dynamodb", region_name="us-east-1"))
        store = DynamoStore(ddb, settings.tables)
        log = DecisionLog(DynamoDecisionStore(ddb, "t-decisions"), DynamoPseudonymVault(ddb, "t-pseudonym-keys"))
        idem_store = DynamoIdempotencyStore(ddb, settings.tables.idempotency)
    store.create_schema()
    log.create_schema()
    idem_store.create_schema()
    _seed_alice(store)
    # Generous wait: concurrent duplicates should receive the first worker's result, not a retry.
    guard = IdempotencyGuard(idem_store, wait_s=60.0)
    calls: list = []

    def counting_triage(raw: bytes, **kw):
        calls.append(kw.get("id"))
        return triage_email(raw, **kw)

    service = build_email_ingest_service(
        settings, s3=s3, store=store, decision_log=log, idempotency=guard, triage_fn=counting_triage,
        redact_fn=redact, **{"clock": lambda: READ_AT, **service_kw},
    )
    return World(kind, s3, store, log, guard, service, calls)


@pytest.fixture(params=["sqlite", "dynamodb"])
def world(request, tmp_path, aws_env):
    from moto import mock_aws

    with mock_aws():
        w = _build(request.param, tmp_path)
        yield w
        close = getattr(w.store, "close", None)
        if close:
            close()


@pytest.fixture
def sqlite_world(tmp_path, aws_env):
    """SQLite only: for tests about the service's own logic, where a second backend adds time, not
    coverage (the backends' equivalence is the contract suite's job)."""
    from moto import mock_aws

    with mock_aws():
        w = _build("sqlite", tmp_path)
        yield w
        w.store.close()
