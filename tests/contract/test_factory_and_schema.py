"""The store factory (one store per configuration, resettable) and the shared DynamoDB table
definitions (the code's queries and the deployed tables must agree)."""
from __future__ import annotations

import pytest

from chalicelib.storage import dynamo_schema
from chalicelib.storage.factory import get_store, reset_store_cache
from chalicelib.storage.sqlite import SqliteStore
from chalicelib.core.settings import Settings, TableNames
from tests.support.aws import use_fake_credentials


@pytest.fixture(autouse=True)
def _fresh_cache():
    reset_store_cache()
    yield
    reset_store_cache()


def test_sqlite_store_is_built_once_per_configuration(tmp_path):
    """Given sqlite settings, When the store is asked for twice, Then it is the same ready-to-use
    object; another path gives another store."""
    s1 = Settings(backend="sqlite", sqlite_path=tmp_path / "a" / "one.db")
    store = get_store(s1)
    assert isinstance(store, SqliteStore)
    assert get_store(s1) is store
    assert store.customers.get("nobody") is None  # schema exists
    assert get_store(Settings(backend="sqlite", sqlite_path=tmp_path / "two.db")) is not store


def test_reset_store_cache_builds_a_new_store(tmp_path):
    """Given a cached store, When the cache is reset, Then the next call builds a new one."""
    s = Settings(backend="sqlite", sqlite_path=tmp_path / "one.db")
    first = get_store(s)
    reset_store_cache()
    assert get_store(s) is not first


def test_dynamodb_backend_builds_a_dynamo_store(monkeypatch):
    """Given dynamodb settings (moto, fake credentials), When the store is built and its schema
    created, Then it is a DynamoStore that reads and writes."""
    from moto import mock_aws

    from chalicelib.core.models import Customer
    from chalicelib.storage.dynamodb import DynamoStore

    use_fake_credentials(monkeypatch)
    with mock_aws():
        store = get_store(Settings(backend="dynamodb", region="us-east-1"))
        assert isinstance(store, DynamoStore)
        store.create_schema()
        c = Customer(customer_id="c-1", name="A", email="a@example.com", phone="+1-555-0100",
                     date_of_birth="1990-01-01")
        store.customers.put(c)
        assert store.customers.get("c-1") == c


def test_table_definitions_cover_every_aggregate_with_configured_names():
    """Given custom table names, When definitions are built, Then each aggregate's table uses its
    configured name, on-demand billing, and the index names the store queries."""
    names = TableNames(cards="x-cards", transactions="x-txns")
    defs = dynamo_schema.table_definitions(names)
    assert set(defs) == set(dynamo_schema.AGGREGATES)
    assert defs["cards"]["TableName"] == "x-cards" and defs["transactions"]["TableName"] == "x-txns"
    assert all(d["BillingMode"] == "PAY_PER_REQUEST" for d in defs.values())
    assert defs["cards"]["GlobalSecondaryIndexes"][0]["IndexName"] == dynamo_schema.CARDS_BY_LAST4
    assert defs["transactions"]["LocalSecondaryIndexes"][0]["IndexName"] == dynamo_schema.TXNS_BY_OCCURRED
    assert defs["handoffs"]["GlobalSecondaryIndexes"][0]["IndexName"] == dynamo_schema.HANDOFFS_BY_SESSION
    for d in defs.values():
        declared = {a["AttributeName"] for a in d["AttributeDefinitions"]}
        used = {k["AttributeName"] for k in d["KeySchema"]}
        for idx in d.get("GlobalSecondaryIndexes", []) + d.get("LocalSecondaryIndexes", []):
            used |= {k["AttributeName"] for k in idx["KeySchema"]}
        assert declared == used, d["TableName"]  # CloudFormation rejects unused definitions


def test_cloudformation_resources_mirror_the_definitions():
    """Given the definitions, When rendered as CloudFormation, Then every table is an
    AWS::DynamoDB::Table with the same keys, PITR on, and TTL only on verifications."""
    res = dynamo_schema.cloudformation_resources(TableNames())
    assert len(res) == len(dynamo_schema.AGGREGATES)
    by_name = {r["Properties"]["TableName"]: r for r in res.values()}
    for agg, d in dynamo_schema.table_definitions(TableNames()).items():
        props = by_name[d["TableName"]]["Properties"]
        assert by_name[d["TableName"]]["Type"] == "AWS::DynamoDB::Table"
        assert props["KeySchema"] == d["KeySchema"]
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert ("TimeToLiveSpecification" in props) == (agg in dynamo_schema.TTL_ATTRIBUTES)
    assert "VerificationsTable" in res and "FraudDecisionsTable" in res
