"""The composition root is the only builder (issue 9): the old process-wide getters stay gone."""
from __future__ import annotations

import importlib

import pytest

REMOVED = [
    ("chalicelib.governance.decision_log", "get_decision_log"),
    ("chalicelib.governance.metrics", "get_metrics"),
    ("chalicelib.governance.controls", "get_controls"),
    ("chalicelib.governance.policy", "get_policy_store"),
    ("chalicelib.storage.idempotency", "get_idempotency_guard"),
    ("chalicelib.ingest.email_ingest", "get_email_ingest_service"),
    ("chalicelib.fraud.service", "get_processor"),
    ("chatbot.hook", "_pool"),
]


@pytest.mark.parametrize("module,name", REMOVED)
def test_no_module_keeps_a_container_service(module, name):
    """Given a module that once kept a lazy process-wide service, Then it no longer offers one: the
    container (chatbot/bootstrap.py) builds it and hands it to its users."""
    assert not hasattr(importlib.import_module(module), name)


def test_an_idempotent_handler_without_a_guard_is_refused_clearly():
    """Given a handler decorated without a guard, When it is called, Then a TypeError names its
    namespace and says the container's guard must be passed (no hidden process-wide guard)."""
    from chalicelib.storage.idempotency import idempotent

    @idempotent(lambda x: ("k", x), namespace="orphan")
    def handler(x):
        return x

    with pytest.raises(TypeError, match="orphan.*guard"):
        handler(1)
