"""One `tickets` fixture, two backends: the ticket contract runs on SQLite and on DynamoDB (moto),
the latter through a client and through a boto3 resource."""
from __future__ import annotations

import pytest


@pytest.fixture(params=["sqlite", "dynamodb", "dynamodb-resource"])
def tickets(request, tmp_path):
    if request.param == "sqlite":
        from chalicelib.tickets.store_sqlite import SqliteTicketStore

        s = SqliteTicketStore(tmp_path / "tickets.db")
        s.create_schema()
        yield s
        s.close()
        return
    request.getfixturevalue("aws_env")
    import boto3
    from moto import mock_aws

    from chalicelib.tickets.store_dynamodb import DynamoTicketStore
    from tests.support.aws import atomic_requests

    with mock_aws():
        kind = "resource" if request.param.endswith("resource") else "client"
        handle = getattr(boto3, kind)("dynamodb", region_name="us-east-1")
        # Each request atomic, as real DynamoDB's are (moto checks a condition, then writes, unlocked):
        # the races under test live between a writer's calls, which stay concurrent.
        atomic_requests(handle.meta.client if kind == "resource" else handle)
        s = DynamoTicketStore(handle, "tickets-test")
        s.create_schema()
        s.create_schema()  # idempotent
        yield s
