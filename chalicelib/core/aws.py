"""boto3 clients with timeouts, created on demand (never at import time).

Every call a chat turn or an email makes to AWS must fail fast enough to leave room inside Lex's
30 s code-hook limit (and our own turn budget) for a fallback answer: botocore's defaults (60 s
read timeout, legacy retries) do not.
"""
from __future__ import annotations

from typing import Any


def client(service: str, settings: Any = None, *, timeout_s: float | None = None, max_attempts: int = 2) -> Any:
    import boto3
    from botocore.config import Config

    if settings is None:
        from chalicelib.core.settings import get_settings

        settings = get_settings()
    timeout = timeout_s if timeout_s is not None else settings.dependency_timeout_s
    config = Config(connect_timeout=timeout, read_timeout=timeout,
                    retries={"max_attempts": max_attempts, "mode": "standard"})
    return boto3.client(service, region_name=settings.region, config=config)


def create_table_if_missing(dynamodb_client: Any, **params: Any) -> bool:
    """On-demand CreateTable that treats "already exists" as success; True when it created it.

    For tests, moto and DynamoDB Local only: in AWS the template creates every table."""
    try:
        dynamodb_client.create_table(BillingMode="PAY_PER_REQUEST", **params)
    except dynamodb_client.exceptions.ResourceInUseException:
        return False
    return True

