"""The DynamoDB store (production). Key design and its reasons: docs/storage.md.

Every customer-owned aggregate is partitioned by ``customer_id``, so each read names its owner in
the key and an id belonging to someone else is simply not found. Models are stored whole as a
JSON string attribute (``data``) beside the key attributes: one parser (pydantic) for both
backends, no float/Decimal conversions, exact round trips.

The boto3 client is passed in (the factory creates it lazily, with timeouts): nothing here touches
AWS at import time, and tests hand in a moto-backed client.

One module per group of tables (``dynamodb_accounts``, ``dynamodb_cases``,
``dynamodb_verifications``, ``dynamodb_triage``) on the shared plumbing of ``dynamo_table``; this
module assembles them into the ``Store`` and owns the schema operations.
"""
from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from chalicelib.storage import dynamo_schema as schema
from chalicelib.storage.base import RepositoryError
from chalicelib.storage.dynamo_table import DynamoTable, error_code, low_level_client
from chalicelib.storage.dynamodb_accounts import (
    DynamoCardRepo,
    DynamoCustomerRepo,
    DynamoFraudDecisionRepo,
    DynamoTransactionRepo,
)
from chalicelib.storage.dynamodb_cases import DynamoCaseRepo, DynamoHandoffRepo
from chalicelib.storage.dynamodb_triage import DynamoTriageRepo
from chalicelib.storage.dynamodb_verifications import DynamoVerificationRepo

__all__ = [
    "DynamoCardRepo",
    "DynamoCaseRepo",
    "DynamoCustomerRepo",
    "DynamoFraudDecisionRepo",
    "DynamoHandoffRepo",
    "DynamoStore",
    "DynamoTransactionRepo",
    "DynamoTriageRepo",
    "DynamoVerificationRepo",
]


class DynamoStore:
    """The Store protocol on DynamoDB.

    ``resource_or_client``: a boto3 DynamoDB client, or a ``boto3.resource("dynamodb")`` (its
    client is used). ``table_names``: ``Settings.tables`` or a mapping with the same keys.
    """

    def __init__(self, resource_or_client: Any, table_names: Any):
        client = low_level_client(resource_or_client)
        self.client = client
        self.table_names = table_names
        self._defs = schema.table_definitions(table_names)
        t = {agg: DynamoTable(client, d["TableName"]) for agg, d in self._defs.items()}
        self.customers = DynamoCustomerRepo(t["customers"])
        self.cards = DynamoCardRepo(t["cards"])
        self.transactions = DynamoTransactionRepo(t["transactions"])
        self.fraud = DynamoFraudDecisionRepo(t["fraud_decisions"])
        self.cases = DynamoCaseRepo(t["cases"])
        self.handoffs = DynamoHandoffRepo(t["handoffs"])
        self.verifications = DynamoVerificationRepo(t["verifications"])
        self.triage = DynamoTriageRepo(t["triage"])

    def create_schema(self) -> None:
        """Create missing tables (PAY_PER_REQUEST, with their indexes and TTL). Deployed stacks
        get the same definitions from CloudFormation; this is for tests and DynamoDB Local."""
        created = []
        for aggregate, params in self._defs.items():
            try:
                self.client.describe_table(TableName=params["TableName"])
                continue
            except ClientError as exc:
                if error_code(exc) != "ResourceNotFoundException":
                    raise RepositoryError(f"dynamodb describe_table: {error_code(exc) or exc}") from exc
            try:
                self.client.create_table(**params)
            except ClientError as exc:
                if error_code(exc) != "ResourceInUseException":  # created concurrently: fine
                    raise RepositoryError(f"dynamodb create_table: {error_code(exc) or exc}") from exc
            created.append(aggregate)
        for aggregate in created:
            name = self._defs[aggregate]["TableName"]
            self.client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
            if aggregate in schema.TTL_ATTRIBUTES:
                self.client.update_time_to_live(
                    TableName=name,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": schema.TTL_ATTRIBUTES[aggregate]},
                )

    def reset(self) -> None:
        """Delete every item of this store's tables (demo reseeding against DynamoDB Local)."""
        for params in self._defs.values():
            DynamoTable(self.client, params["TableName"]).delete_all([k["AttributeName"] for k in params["KeySchema"]])
