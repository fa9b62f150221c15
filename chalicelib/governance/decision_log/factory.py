"""Builds the decision log for the configured backend (SQLite file or DynamoDB tables) and its anchor."""
from __future__ import annotations

import os

from chalicelib.governance.decision_log.anchor import HeadAnchor, build_head_anchor
from chalicelib.governance.decision_log.dynamodb import DynamoDecisionStore, DynamoPseudonymVault
from chalicelib.governance.decision_log.log import DecisionLog
from chalicelib.governance.decision_log.sqlite import SqliteDecisionStore, SqlitePseudonymVault


def pseudonym_table_name(settings=None) -> str:
    from chalicelib.core.settings import get_settings

    return (settings or get_settings()).tables.pseudonym_keys


def build_decision_log(settings=None, *, dynamodb_client=None, create_schema: bool = True,
                       anchor: HeadAnchor | None = None) -> DecisionLog:
    """A decision log for the configured backend (sqlite path or DynamoDB tables), anchored by
    ``anchor`` or, by default, by the backend's anchor (SSM parameter / local file)."""
    from chalicelib.core.settings import get_settings

    settings = settings or get_settings()
    anchor = anchor or build_head_anchor(settings)
    if settings.backend == "dynamodb":
        if dynamodb_client is None:
            from chalicelib.core.aws import client as aws_client
            dynamodb_client = aws_client("dynamodb", settings)
        dl = DecisionLog(
            DynamoDecisionStore(dynamodb_client, settings.tables.decisions),
            DynamoPseudonymVault(dynamodb_client, pseudonym_table_name(settings)),
            anchor=anchor,
        )
        # In AWS the tables come from infrastructure code; creating them here is for local/moto.
        if create_schema and os.environ.get("DA_CREATE_TABLES", "").lower() in ("1", "true", "yes"):
            dl.create_schema()
        return dl
    dl = DecisionLog(SqliteDecisionStore(settings.sqlite_path), SqlitePseudonymVault(settings.sqlite_path), anchor=anchor)
    if create_schema:
        dl.create_schema()
    return dl
