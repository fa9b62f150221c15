"""One `store` fixture, two backends: every contract test runs on SQLite and on DynamoDB (moto),
the latter both through a low-level client and through a ``boto3.resource`` (callers may pass
either)."""
from __future__ import annotations

import pytest

from tests.support.aws import moto_dynamo_store


@pytest.fixture(params=["sqlite", "dynamodb", "dynamodb-resource"])
def store(request, tmp_path, monkeypatch):
    if request.param == "sqlite":
        from chalicelib.storage.sqlite import SqliteStore

        s = SqliteStore(tmp_path / "contract.db")
        s.create_schema()
        yield s
        s.close()
        return

    # atomic: each request alone, as real DynamoDB does (the races under test live between requests)
    with moto_dynamo_store(monkeypatch, resource=request.param == "dynamodb-resource", atomic=True) as s:
        yield s
