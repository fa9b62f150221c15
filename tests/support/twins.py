"""One store fixture, two backends: the body of every `params=["sqlite", "dynamodb", "dynamodb-resource"]`
contract fixture (SQLite, and DynamoDB under moto through a client and through a boto3 resource)."""
from __future__ import annotations

from typing import Any, Callable, Iterator

TWIN_PARAMS = ["sqlite", "dynamodb", "dynamodb-resource"]


def store_twin(request, tmp_path, make_sqlite: Callable[[Any], Any], make_dynamo: Callable[[Any, str], Any],
               table: str) -> Iterator[Any]:
    """Yield the store of ``request.param``: ``make_sqlite(tmp_path)`` or ``make_dynamo(handle, table)``,
    its schema created (twice on DynamoDB: creating it is idempotent)."""
    if request.param == "sqlite":
        s = make_sqlite(tmp_path)
        s.create_schema()
        yield s
        s.close()
        return
    request.getfixturevalue("aws_env")
    import boto3
    from moto import mock_aws

    from tests.support.aws import atomic_requests

    with mock_aws():
        kind = "resource" if request.param.endswith("resource") else "client"
        handle = getattr(boto3, kind)("dynamodb", region_name="us-east-1")
        # Each request atomic, as real DynamoDB's are (moto checks a condition, then writes, unlocked):
        # the races under test live between a writer's calls, which stay concurrent.
        atomic_requests(handle.meta.client if kind == "resource" else handle)
        s = make_dynamo(handle, table)
        s.create_schema()
        s.create_schema()  # idempotent
        yield s
