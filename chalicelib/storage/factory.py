"""Builds the configured store once per process (a Lambda container or ``chalice local``).

Why cached: a SQLite connection and a boto3 client are expensive to build and safe to share, and
the hook's warm-turn latency budget has no room for either. Why lazy: importing a handler must
not open files or create AWS clients (cold start, and tests that never touch storage).
"""
from __future__ import annotations

import threading
from typing import Any

from chalicelib.storage.base import Store
from chalicelib.core.settings import Settings, get_settings

_lock = threading.Lock()
_stores: dict[tuple, Any] = {}


def _cache_key(settings: Settings) -> tuple:
    if settings.backend == "sqlite":
        return ("sqlite", str(settings.sqlite_path))
    return ("dynamodb", settings.region, tuple(sorted(settings.tables.model_dump().items())))


def dynamodb_client(settings: Settings) -> Any:
    """A DynamoDB client whose timeouts keep a hung call well inside the Lex turn budget."""
    import boto3
    from botocore.config import Config

    timeout = settings.dependency_timeout_s
    config = Config(
        connect_timeout=timeout,
        read_timeout=timeout,
        retries={"max_attempts": 2, "mode": "standard"},
    )
    return boto3.client("dynamodb", region_name=settings.region, config=config)


def _build(settings: Settings) -> Store:
    if settings.backend == "sqlite":
        from chalicelib.storage.sqlite import SqliteStore

        store = SqliteStore(settings.sqlite_path)
        store.create_schema()  # embedded: the file is ours to create
        return store
    from chalicelib.storage.dynamodb import DynamoStore

    # Tables come from CloudFormation in AWS; create_schema() is not called here.
    return DynamoStore(dynamodb_client(settings), settings.tables)


def get_store(settings: Settings | None = None) -> Store:
    """The store for ``settings`` (default: ``get_settings()``), one per configuration."""
    settings = settings or get_settings()
    key = _cache_key(settings)
    store = _stores.get(key)
    if store is None:
        with _lock:
            store = _stores.get(key)
            if store is None:
                store = _build(settings)
                _stores[key] = store
    return store


def reset_store_cache() -> None:
    """Forget cached stores (tests that switch settings); SQLite connections are closed."""
    with _lock:
        for store in _stores.values():
            close = getattr(store, "close", None)
            if close is not None:
                close()
        _stores.clear()
