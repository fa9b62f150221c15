"""DynamoDB table definitions: the single source for ``DynamoStore.create_schema`` (tests, local
DynamoDB) and for the CloudFormation template (``cloudformation_resources``), so the deployed
tables cannot drift from the keys the code queries. docs/storage.md explains each choice.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

# Index names the store queries by.
CARDS_BY_LAST4 = "by_last4"
TXNS_BY_OCCURRED = "by_occurred"
FRAUD_BY_TXN = "by_txn"
HANDOFFS_BY_SESSION = "by_session"
CUSTOMERS_BY_EMAIL = "by_email"
TRIAGE_BY_S3_OBJECT = "by_s3_object"
TRIAGE_BY_CUSTOMER = "by_customer"
TRIAGE_BY_SKIP = "by_skip"  # sparse: only skipped records carry skip_code

# Only the verification table expires items by itself (sessions and failure records are
# short-lived; nothing else may silently disappear).
# Triage records expire after the complaint-record retention period (see dynamodb._TRIAGE_TTL).
# Rollout guard observations expire once no guard window or audit of a rollback needs them.
TTL_ATTRIBUTES: dict[str, str] = {"verifications": "expires_at", "triage": "expires_at", "rollout": "expires_at"}

# The aggregates this module defines tables for (TableNames also names tables owned elsewhere).
AGGREGATES = ("customers", "cards", "transactions", "fraud_decisions", "cases", "handoffs", "verifications", "triage",
              "rollout")


def _s(*names: str) -> list[dict[str, str]]:
    return [{"AttributeName": n, "AttributeType": "S"} for n in names]


def _key(hash_key: str, range_key: str | None = None) -> list[dict[str, str]]:
    schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
    return schema


def _all(name: str, hash_key: str, range_key: str | None = None) -> dict[str, Any]:
    return {"IndexName": name, "KeySchema": _key(hash_key, range_key), "Projection": {"ProjectionType": "ALL"}}


def _name(table_names: Any, aggregate: str) -> str:
    if isinstance(table_names, Mapping):
        return table_names[aggregate]
    return getattr(table_names, aggregate)


def rollout_table_definition(name: str) -> dict[str, Any]:
    """The progressive rollout's shared records (chalicelib/governance/rollout_dynamodb.py):
    OBS#<capability>#<shard> / <at>#<nonce> observations, HIST#<capability> stage changes,
    STAGE#<capability> / CURRENT the stage."""
    return {"TableName": name, "AttributeDefinitions": _s("pk", "sk"), "KeySchema": _key("pk", "sk"),
            "BillingMode": "PAY_PER_REQUEST"}


def table_definitions(table_names: Any) -> dict[str, dict[str, Any]]:
    """CreateTable parameters per aggregate, keyed by aggregate name (``customers``, ...).

    ``table_names`` is ``Settings.tables`` (a TableNames) or a mapping with the same keys.
    """
    n = lambda agg: _name(table_names, agg)  # noqa: E731
    defs: dict[str, dict[str, Any]] = {
        "customers": {
            "TableName": n("customers"),
            "AttributeDefinitions": _s("customer_id", "email_lc"),
            "KeySchema": _key("customer_id"),
            # Sender -> customer for email ingestion (email_lc: the address trimmed, lower-cased).
            "GlobalSecondaryIndexes": [_all(CUSTOMERS_BY_EMAIL, "email_lc", "customer_id")],
        },
        "cards": {
            "TableName": n("cards"),
            "AttributeDefinitions": _s("customer_id", "card_id", "last4"),
            "KeySchema": _key("customer_id", "card_id"),
            "GlobalSecondaryIndexes": [_all(CARDS_BY_LAST4, "last4", "card_id")],
        },
        "transactions": {
            "TableName": n("transactions"),
            "AttributeDefinitions": _s("customer_id", "txn_id", "occurred_sk"),
            "KeySchema": _key("customer_id", "txn_id"),
            # LSI, not GSI: same partition (the owner), strongly consistent, no extra table.
            "LocalSecondaryIndexes": [_all(TXNS_BY_OCCURRED, "customer_id", "occurred_sk")],
        },
        "fraud_decisions": {
            "TableName": n("fraud_decisions"),
            "AttributeDefinitions": _s("customer_id", "decision_id", "txn_sk"),
            "KeySchema": _key("customer_id", "decision_id"),
            "LocalSecondaryIndexes": [_all(FRAUD_BY_TXN, "customer_id", "txn_sk")],
        },
        "cases": {
            # Two item types share the partition: CASE#<case_id> (the case) and TXN#<txn_id>
            # (the uniqueness guard, written in the same transaction).
            "TableName": n("cases"),
            "AttributeDefinitions": _s("customer_id", "sk"),
            "KeySchema": _key("customer_id", "sk"),
        },
        "handoffs": {
            "TableName": n("handoffs"),
            "AttributeDefinitions": _s("handoff_id", "session_id", "created_sk"),
            "KeySchema": _key("handoff_id"),
            "GlobalSecondaryIndexes": [_all(HANDOFFS_BY_SESSION, "session_id", "created_sk")],
        },
        "verifications": {
            # SESSION#<id>/STATE items and CUSTOMER#<id>/FAIL#<time>#<nonce> items.
            "TableName": n("verifications"),
            "AttributeDefinitions": _s("pk", "sk"),
            "KeySchema": _key("pk", "sk"),
        },
        "triage": {
            # pk = record_id (from the Message-ID or the S3 object), sk = "RECORD". The indexes are
            # for look-ups only; duplicates are stopped by the conditional put on pk.
            "TableName": n("triage"),
            "AttributeDefinitions": _s("pk", "sk", "s3_object", "customer_id", "received_sk", "skip_code"),
            "KeySchema": _key("pk", "sk"),
            "GlobalSecondaryIndexes": [
                _all(TRIAGE_BY_S3_OBJECT, "s3_object"),
                _all(TRIAGE_BY_CUSTOMER, "customer_id", "received_sk"),
                _all(TRIAGE_BY_SKIP, "skip_code", "received_sk"),
            ],
        },
        "rollout": rollout_table_definition(n("rollout")),
    }
    for d in defs.values():
        d["BillingMode"] = "PAY_PER_REQUEST"
    return defs


def _logical_id(aggregate: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[_\-]", aggregate)) + "Table"


def cloudformation_resources(table_names: Any) -> dict[str, dict[str, Any]]:
    """``AWS::DynamoDB::Table`` resources (logical id -> resource) for the deployment template.

    Point-in-time recovery and encryption at rest are on: these tables hold customer data.
    """
    resources: dict[str, dict[str, Any]] = {}
    for aggregate, params in table_definitions(table_names).items():
        props = dict(params)
        props["PointInTimeRecoverySpecification"] = {"PointInTimeRecoveryEnabled": True}
        props["SSESpecification"] = {"SSEEnabled": True}
        if aggregate in TTL_ATTRIBUTES:
            props["TimeToLiveSpecification"] = {"AttributeName": TTL_ATTRIBUTES[aggregate], "Enabled": True}
        resources[_logical_id(aggregate)] = {"Type": "AWS::DynamoDB::Table", "Properties": props}
    return resources
