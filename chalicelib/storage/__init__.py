"""Repositories: one protocol (``base.Store``), two implementations (SQLite, DynamoDB).

Every read of account data takes the owning ``customer_id`` as part of the key. That is the
security boundary: a handler can only ask for "this customer's transaction X", so an id typed by
another customer simply is not found.
"""
from chalicelib.storage.base import (  # noqa: F401
    AlreadyExists,
    RepositoryError,
    Store,
)


def get_store(settings=None) -> "Store":
    """The store for the configured backend, created once per container."""
    from chalicelib.storage.factory import get_store as _get

    return _get(settings)
