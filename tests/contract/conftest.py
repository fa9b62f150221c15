"""One `store` fixture, two backends: every contract test runs on SQLite and on DynamoDB (moto),
the latter both through a low-level client and through a ``boto3.resource`` (callers may pass
either)."""
from __future__ import annotations

import pytest

from chalicelib.core.settings import TableNames


@pytest.fixture(params=["sqlite", "dynamodb", "dynamodb-resource"])
def store(request, tmp_path, monkeypatch):
    if request.param == "sqlite":
        from chalicelib.storage.sqlite import SqliteStore

        s = SqliteStore(tmp_path / "contract.db")
        s.create_schema()
        yield s
        s.close()
        return

    import boto3
    from moto import mock_aws

    from chalicelib.storage.dynamodb import DynamoStore

    # Fake credentials: moto must never fall through to a real account.
    for var, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(var, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        if request.param == "dynamodb-resource":
            handle = boto3.resource("dynamodb", region_name="us-east-1")
        else:
            handle = boto3.client("dynamodb", region_name="us-east-1")
        s = DynamoStore(handle, TableNames())
        s.create_schema()
        yield s
