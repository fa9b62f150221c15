"""Fake AWS for tests: credentials that keep moto from ever reaching a real account, moto clients
made atomic per request, and a DynamoDB store on moto with its tables created.

Why one module: every suite that touches moto needs the same three things, and copies of them had
already drifted (one copy forgot AWS_SESSION_TOKEN, another left AWS_PROFILE in place).
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import pytest

REGION = "us-east-1"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
}


def use_fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials, and no profile: moto must never fall through to a real account."""
    for var, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(var, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def aws_env(monkeypatch):
    """Fake credentials for one test (see :func:`use_fake_credentials`)."""
    use_fake_credentials(monkeypatch)


@pytest.fixture
def moto_aws(aws_env):
    """Every AWS call of the test goes to moto."""
    from moto import mock_aws

    with mock_aws():
        yield


_MOTO_LOCK = threading.RLock()


def atomic_requests(client: Any) -> Any:
    """Make each request to a moto client atomic, as each request to the real service is.

    moto's in-memory backends are not thread-safe ("dictionary changed size during iteration"),
    and moto checks a ConditionExpression and then writes without a lock, so two threads could
    both pass a check real DynamoDB lets only one pass. Only single API calls are serialised; the
    gaps between a writer's calls (read, decide, conditional write) stay concurrent, which is where
    the races under test live.
    """
    inner = client._make_api_call

    def call(operation_name, api_params):
        with _MOTO_LOCK:
            return inner(operation_name, api_params)

    client._make_api_call = call
    return client


@contextmanager
def moto_dynamo_store(monkeypatch: pytest.MonkeyPatch, *, resource: bool = False, atomic: bool = False,
                      seed: Callable[[Any], None] | None = None) -> Iterator[Any]:
    """A ``DynamoStore`` on moto with its tables created, through a client or (``resource``) a
    ``boto3.resource``; ``atomic`` for thread races (:func:`atomic_requests`); ``seed`` fills it."""
    import boto3
    from moto import mock_aws

    from chalicelib.core.settings import TableNames
    from chalicelib.storage.dynamodb import DynamoStore

    use_fake_credentials(monkeypatch)
    with mock_aws():
        if resource:
            handle = boto3.resource("dynamodb", region_name=REGION)
        else:
            handle = boto3.client("dynamodb", region_name=REGION)
            handle = atomic_requests(handle) if atomic else handle
        store = DynamoStore(handle, TableNames())
        store.create_schema()
        if seed is not None:
            seed(store)
        yield store
