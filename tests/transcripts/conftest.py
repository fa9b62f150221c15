"""One `transcripts` fixture, two backends: the transcript contract runs on SQLite and on DynamoDB
(moto), the latter through a client and through a boto3 resource."""
from __future__ import annotations

import pytest


@pytest.fixture(params=["sqlite", "dynamodb", "dynamodb-resource"])
def transcripts(request, tmp_path):
    if request.param == "sqlite":
        from chalicelib.transcripts.store_sqlite import SqliteTranscriptStore

        s = SqliteTranscriptStore(tmp_path / "transcripts.db")
        s.create_schema()
        yield s
        s.close()
        return
    request.getfixturevalue("aws_env")
    import boto3
    from moto import mock_aws

    from chalicelib.transcripts.store_dynamodb import DynamoTranscriptStore
    from tests.support.aws import atomic_requests

    with mock_aws():
        kind = "resource" if request.param.endswith("resource") else "client"
        handle = getattr(boto3, kind)("dynamodb", region_name="us-east-1")
        atomic_requests(handle.meta.client if kind == "resource" else handle)
        s = DynamoTranscriptStore(handle, "transcripts-test")
        s.create_schema()
        s.create_schema()  # idempotent
        yield s
