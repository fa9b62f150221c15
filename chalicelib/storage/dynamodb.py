"""The DynamoDB store (production). Key design and its reasons: docs/storage.md.

Every customer-owned aggregate is partitioned by ``customer_id``, so each read names its owner in
the key and an id belonging to someone else is simply not found. Models are stored whole as a
JSON string attribute (``data``) beside the key attributes: one parser (pydantic) for both
backends, no float/Decimal conversions, exact round trips.

The boto3 client is passed in (the factory creates it lazily, with timeouts): nothing here touches
AWS at import time, and tests hand in a moto-backed client.
"""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta
from typing import Any, Callable, Iterator, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel

from chalicelib.core.models import (
    Card,
    CaseState,
    Customer,
    DisputeCase,
    FraudDecision,
    Handoff,
    Transaction,
    TriageRecord,
    VerificationState,
)
from chalicelib.storage import dynamo_schema as schema
from chalicelib.storage.base import AlreadyExists, NotFound, RepositoryError
from chalicelib.storage.common import HIGH, time_key, transitioned, with_initial_history

M = TypeVar("M", bound=BaseModel)

_BATCH = 25  # BatchWriteItem limit
_TRANSITION_ATTEMPTS = 3
# Verification records outlive any lockout window, then DynamoDB TTL removes them.
_VERIFICATION_TTL = timedelta(days=7)
# Conditional writes lost to concurrent writers before giving up (each loss means another write landed).
_CAS_ATTEMPTS = 50
# Triage records are complaint records: kept three years (Reg E keeps two, FCA DISP three), then
# DynamoDB TTL removes them. The raw mail they came from expires from S3 much sooner.
_TRIAGE_TTL = timedelta(days=1096)


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


class _Table:
    """One table: thin helpers that turn botocore failures into RepositoryError."""

    def __init__(self, client: Any, name: str):
        self.client = client
        self.name = name

    def call(self, op: str, **kwargs: Any) -> dict:
        try:
            return getattr(self.client, op)(TableName=self.name, **kwargs)
        except ClientError as exc:
            if _code(exc) == "ConditionalCheckFailedException":
                raise
            raise RepositoryError(f"dynamodb {op} {self.name}: {_code(exc) or exc}") from exc
        except BotoCoreError as exc:
            raise RepositoryError(f"dynamodb {op} {self.name}: {exc}") from exc

    def get(self, key: dict[str, dict]) -> dict | None:
        return self.call("get_item", Key=key, ConsistentRead=True).get("Item")

    def query(self, **kwargs: Any) -> Iterator[dict]:
        start: dict | None = None
        while True:
            page = self.call("query", **kwargs, **({"ExclusiveStartKey": start} if start else {}))
            yield from page.get("Items", [])
            start = page.get("LastEvaluatedKey")
            if not start:
                return

    def scan(self, **kwargs: Any) -> Iterator[dict]:
        start: dict | None = None
        while True:
            page = self.call("scan", **kwargs, **({"ExclusiveStartKey": start} if start else {}))
            yield from page.get("Items", [])
            start = page.get("LastEvaluatedKey")
            if not start:
                return

    def put_batch(self, items: list[dict]) -> None:
        self.write_batch([{"PutRequest": {"Item": it}} for it in items])

    def write_batch(self, requests: list[dict]) -> None:
        """BatchWriteItem in chunks of 25, retrying unprocessed items with backoff."""
        for i in range(0, len(requests), _BATCH):
            pending = requests[i : i + _BATCH]
            delay = 0.05
            for _ in range(8):
                try:
                    out = self.client.batch_write_item(RequestItems={self.name: pending})
                except (ClientError, BotoCoreError) as exc:
                    raise RepositoryError(f"dynamodb batch_write_item {self.name}: {exc}") from exc
                pending = out.get("UnprocessedItems", {}).get(self.name, [])
                if not pending:
                    break
                time.sleep(delay)
                delay *= 2
            if pending:
                raise RepositoryError(f"dynamodb batch_write_item {self.name}: {len(pending)} items unprocessed")


class _ResourceClientAdapter:
    """Low-level calls through a ``boto3.resource("dynamodb")``'s client.

    That client is wired to serialise plain Python values itself, so attribute-value maps
    ({"S": ...}) must be turned into Python values on the way in and back on the way out. The
    rest of the store then speaks one dialect, whichever object the caller handed in.
    """

    _MAPS = ("Item", "Key", "ExpressionAttributeValues", "ExclusiveStartKey")

    def __init__(self, client: Any):
        from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

        self._client = client
        self._de = TypeDeserializer()
        self._ser = TypeSerializer()
        self.exceptions = client.exceptions

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def _native(self, av_map: dict) -> dict:
        return {k: self._de.deserialize(v) for k, v in av_map.items()}

    def _wire(self, native_map: dict) -> dict:
        return {k: self._ser.serialize(v) for k, v in native_map.items()}

    def _in(self, params: dict) -> dict:
        return {k: (self._native(v) if k in self._MAPS and isinstance(v, dict) else v) for k, v in params.items()}

    def _requests(self, request_items: dict, convert) -> dict:
        out = {}
        for table, reqs in request_items.items():
            out[table] = []
            for r in reqs:
                if "PutRequest" in r:
                    out[table].append({"PutRequest": {"Item": convert(r["PutRequest"]["Item"])}})
                else:
                    out[table].append({"DeleteRequest": {"Key": convert(r["DeleteRequest"]["Key"])}})
        return out

    def _out(self, resp: dict) -> dict:
        resp = dict(resp)
        if "Item" in resp:
            resp["Item"] = self._wire(resp["Item"])
        if "Items" in resp:
            resp["Items"] = [self._wire(i) for i in resp["Items"]]
        if resp.get("LastEvaluatedKey"):
            resp["LastEvaluatedKey"] = self._wire(resp["LastEvaluatedKey"])
        return resp

    def _single(op: str):  # noqa: N805 - a method factory used in the class body
        def call(self, **params: Any) -> dict:
            return self._out(getattr(self._client, op)(**self._in(params)))

        return call

    get_item = _single("get_item")
    put_item = _single("put_item")
    delete_item = _single("delete_item")
    query = _single("query")
    scan = _single("scan")

    def batch_write_item(self, RequestItems: dict, **params: Any) -> dict:  # noqa: N803 - boto3 name
        resp = dict(self._client.batch_write_item(RequestItems=self._requests(RequestItems, self._native), **params))
        if resp.get("UnprocessedItems"):
            resp["UnprocessedItems"] = self._requests(resp["UnprocessedItems"], self._wire)
        return resp

    def transact_write_items(self, TransactItems: list, **params: Any) -> dict:  # noqa: N803 - boto3 name
        items = [{op: self._in(body) for op, body in it.items()} for it in TransactItems]
        return self._client.transact_write_items(TransactItems=items, **params)


def _load(model: type[M], item: dict | None) -> M | None:
    return model.model_validate_json(item["data"]["S"]) if item else None


def _load_all(model: type[M], items: Iterator[dict]) -> list[M]:
    return [model.model_validate_json(it["data"]["S"]) for it in items]


class DynamoCustomerRepo:
    def __init__(self, table: _Table):
        self._t = table

    def put(self, customer: Customer) -> None:
        item = {"customer_id": _s(customer.customer_id), "data": _s(customer.model_dump_json())}
        email_lc = customer.email.strip().lower()
        if email_lc:  # an empty string cannot be an index key
            item["email_lc"] = _s(email_lc)
        self._t.call("put_item", Item=item)

    def get(self, customer_id: str) -> Customer | None:
        return _load(Customer, self._t.get({"customer_id": _s(customer_id)}))

    def list_ids(self) -> list[str]:
        """A scan: for seeding and operations, never on a customer's turn."""
        return sorted(it["customer_id"]["S"] for it in self._t.scan(ProjectionExpression="customer_id"))

    def delete(self, customer_id: str) -> None:
        self._t.call("delete_item", Key={"customer_id": _s(customer_id)})

    def find_by_email(self, email: str) -> list[Customer]:
        email_lc = email.strip().lower()
        if not email_lc:
            return []
        found = _load_all(
            Customer,
            self._t.query(
                IndexName=schema.CUSTOMERS_BY_EMAIL,
                KeyConditionExpression="email_lc = :e",
                ExpressionAttributeValues={":e": _s(email_lc)},
            ),
        )
        return sorted(found, key=lambda c: c.customer_id)


class DynamoCardRepo:
    def __init__(self, table: _Table):
        self._t = table

    @staticmethod
    def _item(card: Card) -> dict:
        return {
            "customer_id": _s(card.customer_id),
            "card_id": _s(card.card_id),
            "last4": _s(card.last4),
            "data": _s(card.model_dump_json()),
        }

    def put(self, card: Card) -> None:
        self._t.call("put_item", Item=self._item(card))

    def list_for_customer(self, customer_id: str) -> list[Card]:
        return _load_all(
            Card,
            self._t.query(
                KeyConditionExpression="customer_id = :c",
                ExpressionAttributeValues={":c": _s(customer_id)},
                ConsistentRead=True,
            ),
        )

    def find_by_last4(self, last4: str) -> list[Card]:
        cards = _load_all(
            Card,
            self._t.query(
                IndexName=schema.CARDS_BY_LAST4,
                KeyConditionExpression="last4 = :l",
                ExpressionAttributeValues={":l": _s(last4)},
            ),
        )
        return sorted(cards, key=lambda c: (c.customer_id, c.card_id))


class DynamoTransactionRepo:
    def __init__(self, table: _Table):
        self._t = table

    @staticmethod
    def _item(t: Transaction) -> dict:
        return {
            "customer_id": _s(t.customer_id),
            "txn_id": _s(t.txn_id),
            "occurred_sk": _s(f"{time_key(t.occurred_at)}#{t.txn_id}"),
            "data": _s(t.model_dump_json()),
        }

    def put(self, txn: Transaction) -> None:
        self._t.call("put_item", Item=self._item(txn))

    def put_many(self, txns: list[Transaction]) -> None:
        self._t.put_batch([self._item(t) for t in txns])

    def get(self, customer_id: str, txn_id: str) -> Transaction | None:
        return _load(Transaction, self._t.get({"customer_id": _s(customer_id), "txn_id": _s(txn_id)}))

    def list_for_customer(
        self, customer_id: str, since: datetime | None = None, until: datetime | None = None
    ) -> list[Transaction]:
        values = {":c": _s(customer_id)}
        cond = "customer_id = :c"
        lo = time_key(since) if since is not None else None
        hi = f"{time_key(until)}#{HIGH}" if until is not None else None
        if lo and hi:
            cond += " AND occurred_sk BETWEEN :lo AND :hi"
            values.update({":lo": _s(lo), ":hi": _s(hi)})
        elif lo:
            cond += " AND occurred_sk >= :lo"
            values[":lo"] = _s(lo)
        elif hi:
            cond += " AND occurred_sk <= :hi"
            values[":hi"] = _s(hi)
        return _load_all(
            Transaction,
            self._t.query(
                IndexName=schema.TXNS_BY_OCCURRED,
                KeyConditionExpression=cond,
                ExpressionAttributeValues=values,
                ScanIndexForward=False,
                ConsistentRead=True,
            ),
        )


class DynamoFraudDecisionRepo:
    def __init__(self, table: _Table):
        self._t = table

    @staticmethod
    def _item(d: FraudDecision) -> dict:
        return {
            "customer_id": _s(d.customer_id),
            "decision_id": _s(d.decision_id),
            "txn_sk": _s(f"{d.txn_id}#{time_key(d.created_at)}#{d.decision_id}"),
            "data": _s(d.model_dump_json()),
        }

    def put(self, decision: FraudDecision) -> None:
        self._t.call("put_item", Item=self._item(decision))

    def get_for_transaction(self, customer_id: str, txn_id: str) -> FraudDecision | None:
        """The latest decision on the transaction (a re-scored payment keeps its history)."""
        page = self._t.call(
            "query",
            IndexName=schema.FRAUD_BY_TXN,
            KeyConditionExpression="customer_id = :c AND begins_with(txn_sk, :t)",
            ExpressionAttributeValues={":c": _s(customer_id), ":t": _s(f"{txn_id}#")},
            ScanIndexForward=False,
            ConsistentRead=True,
            Limit=1,
        )
        items = page.get("Items", [])
        return _load(FraudDecision, items[0] if items else None)

    def list_for_customer(self, customer_id: str) -> list[FraudDecision]:
        """Newest first."""
        found = _load_all(
            FraudDecision,
            self._t.query(
                KeyConditionExpression="customer_id = :c",
                ExpressionAttributeValues={":c": _s(customer_id)},
                ConsistentRead=True,
            ),
        )
        return sorted(found, key=lambda d: (time_key(d.created_at), d.decision_id), reverse=True)


class DynamoCaseRepo:
    def __init__(self, table: _Table):
        self._t = table

    @staticmethod
    def _case_key(customer_id: str, case_id: str) -> dict:
        return {"customer_id": _s(customer_id), "sk": _s(f"CASE#{case_id}")}

    @staticmethod
    def _guard_key(customer_id: str, txn_id: str) -> dict:
        return {"customer_id": _s(customer_id), "sk": _s(f"TXN#{txn_id}")}

    def _item(self, case: DisputeCase) -> dict:
        return {
            **self._case_key(case.customer_id, case.case_id),
            "case_id": _s(case.case_id),
            "txn_id": _s(case.txn_id),
            "state": _s(case.state.value),
            "created_key": _s(time_key(case.created_at)),
            "updated_key": _s(time_key(case.updated_at)),
            "data": _s(case.model_dump_json()),
        }

    def create(self, case: DisputeCase) -> DisputeCase:
        """The case and its per-transaction guard item are written in one transaction, each only
        if absent: a replayed event (or the same charge raised by chat and by email) cannot make
        a second case, and a reused case id cannot overwrite another case."""
        stored = with_initial_history(case)
        guard = {**self._guard_key(stored.customer_id, stored.txn_id), "case_id": _s(stored.case_id)}
        try:
            self._t.client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._t.name,
                            "Item": self._item(stored),
                            "ConditionExpression": "attribute_not_exists(sk)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._t.name,
                            "Item": guard,
                            "ConditionExpression": "attribute_not_exists(sk)",
                        }
                    },
                ]
            )
        except ClientError as exc:
            if _code(exc) == "TransactionCanceledException":
                reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
                if "ConditionalCheckFailed" in reasons or not reasons:
                    raise AlreadyExists(
                        f"case {stored.case_id} or a case on {stored.txn_id} already exists for {stored.customer_id}"
                    ) from exc
            raise RepositoryError(f"dynamodb transact_write_items {self._t.name}: {_code(exc) or exc}") from exc
        except BotoCoreError as exc:
            raise RepositoryError(f"dynamodb transact_write_items {self._t.name}: {exc}") from exc
        return stored

    def get(self, customer_id: str, case_id: str) -> DisputeCase | None:
        return _load(DisputeCase, self._t.get(self._case_key(customer_id, case_id)))

    def find_by_transaction(self, customer_id: str, txn_id: str) -> DisputeCase | None:
        """Through the guard item: two strongly consistent reads, where a GSI would be
        eventually consistent exactly when idempotency needs an up-to-date answer."""
        guard = self._t.get(self._guard_key(customer_id, txn_id))
        if not guard:
            return None
        return self.get(customer_id, guard["case_id"]["S"])

    def list_for_customer(self, customer_id: str) -> list[DisputeCase]:
        found = _load_all(
            DisputeCase,
            self._t.query(
                KeyConditionExpression="customer_id = :c AND begins_with(sk, :p)",
                ExpressionAttributeValues={":c": _s(customer_id), ":p": _s("CASE#")},
                ConsistentRead=True,
            ),
        )
        return sorted(found, key=lambda c: (time_key(c.created_at), c.case_id), reverse=True)

    def transition(self, customer_id: str, case_id: str, new_state: CaseState, note: str = "") -> DisputeCase:
        """Optimistic: the write succeeds only if the state (and update time) we read are still
        there. On a lost race we re-read and re-check, so a transition is never applied on top of
        a state it is not legal from."""
        for _ in range(_TRANSITION_ATTEMPTS):
            current = self.get(customer_id, case_id)
            if current is None:
                raise NotFound(f"case {case_id} not found for {customer_id}")
            updated = transitioned(current, new_state, note)
            try:
                self._t.call(
                    "put_item",
                    Item=self._item(updated),
                    ConditionExpression="#st = :old_state AND updated_key = :old_updated",
                    ExpressionAttributeNames={"#st": "state"},
                    ExpressionAttributeValues={
                        ":old_state": _s(current.state.value),
                        ":old_updated": _s(time_key(current.updated_at)),
                    },
                )
            except ClientError as exc:  # only ConditionalCheckFailed reaches here
                del exc
                continue
            return updated
        raise RepositoryError(f"case {case_id}: concurrent updates, transition to {new_state.value} not applied")


class DynamoHandoffRepo:
    def __init__(self, table: _Table):
        self._t = table

    def create(self, handoff: Handoff) -> Handoff:
        try:
            self._t.call(
                "put_item",
                Item={
                    "handoff_id": _s(handoff.handoff_id),
                    "session_id": _s(handoff.session_id),
                    "created_sk": _s(f"{time_key(handoff.created_at)}#{handoff.handoff_id}"),
                    "data": _s(handoff.model_dump_json()),
                },
                ConditionExpression="attribute_not_exists(handoff_id)",
            )
        except ClientError as exc:
            raise AlreadyExists(f"handoff {handoff.handoff_id} already exists") from exc
        return handoff.model_copy(deep=True)

    def get(self, handoff_id: str) -> Handoff | None:
        return _load(Handoff, self._t.get({"handoff_id": _s(handoff_id)}))

    def list_for_session(self, session_id: str) -> list[Handoff]:
        """Oldest first: the order the session asked for them."""
        return _load_all(
            Handoff,
            self._t.query(
                IndexName=schema.HANDOFFS_BY_SESSION,
                KeyConditionExpression="session_id = :s",
                ExpressionAttributeValues={":s": _s(session_id)},
            ),
        )


class DynamoVerificationRepo:
    def __init__(self, table: _Table):
        self._t = table

    @staticmethod
    def _expires(at: datetime) -> dict:
        return {"N": str(int((at + _VERIFICATION_TTL).timestamp()))}

    def get(self, session_id: str) -> VerificationState | None:
        return _load(VerificationState, self._t.get({"pk": _s(f"SESSION#{session_id}"), "sk": _s("STATE")}))

    def _item(self, state: VerificationState) -> dict:
        # ``rev`` changes on every write, so a conditional write on it (``update``) fails if
        # anything at all was written since the read: failure count, code, verified, lock.
        return {
            "pk": _s(f"SESSION#{state.session_id}"),
            "sk": _s("STATE"),
            "data": _s(state.model_dump_json()),
            "rev": _s(uuid.uuid4().hex),
            "expires_at": self._expires(state.updated_at),
        }

    def put(self, state: VerificationState) -> None:
        self._t.call("put_item", Item=self._item(state))

    def update(
        self, session_id: str, change: Callable[[VerificationState | None], VerificationState | None]
    ) -> tuple[VerificationState | None, bool]:
        key = {"pk": _s(f"SESSION#{session_id}"), "sk": _s("STATE")}
        for _ in range(_CAS_ATTEMPTS):
            item = self._t.get(key)
            current = _load(VerificationState, item)
            new = change(current.model_copy(deep=True) if current else None)
            if new is None:
                return current, False
            if item is None:
                cond: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
            elif "rev" in item:
                cond = {"ConditionExpression": "rev = :rev", "ExpressionAttributeValues": {":rev": item["rev"]}}
            else:  # written before revisions existed
                cond = {"ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(rev)"}
            try:
                self._t.call("put_item", Item=self._item(new), **cond)
            except ClientError as exc:
                if _code(exc) != "ConditionalCheckFailedException":
                    raise
                continue  # someone wrote in between: re-read and re-apply the change
            return new, True
        raise RepositoryError(f"dynamodb verifications: no atomic update after {_CAS_ATTEMPTS} attempts")

    def failures_for_customer(self, customer_id: str, since: datetime) -> int:
        count = 0
        start: dict | None = None
        while True:
            page = self._t.call(
                "query",
                KeyConditionExpression="pk = :p AND sk BETWEEN :lo AND :hi",
                ExpressionAttributeValues={
                    ":p": _s(f"CUSTOMER#{customer_id}"),
                    ":lo": _s(f"FAIL#{time_key(since)}"),
                    ":hi": _s(f"FAIL#{HIGH}"),
                },
                Select="COUNT",
                ConsistentRead=True,
                **({"ExclusiveStartKey": start} if start else {}),
            )
            count += int(page.get("Count", 0))
            start = page.get("LastEvaluatedKey")
            if not start:
                return count

    def record_customer_failure(self, customer_id: str, at: datetime) -> None:
        # A nonce in the key: two failures in the same microsecond are still two failures.
        self._t.call(
            "put_item",
            Item={
                "pk": _s(f"CUSTOMER#{customer_id}"),
                "sk": _s(f"FAIL#{time_key(at)}#{uuid.uuid4().hex}"),
                "data": _s("{}"),
                "expires_at": self._expires(at),
            },
        )


class DynamoTriageRepo:
    def __init__(self, table: _Table):
        self._t = table

    @staticmethod
    def _key(record_id: str) -> dict:
        return {"pk": _s(record_id), "sk": _s("RECORD")}

    def create(self, record: TriageRecord) -> TriageRecord:
        item = {
            **self._key(record.record_id),
            "s3_object": _s(f"{record.s3_bucket}/{record.s3_key}"),
            "received_sk": _s(f"{time_key(record.received_at)}#{record.record_id}"),
            "data": _s(record.model_dump_json()),
            "expires_at": {"N": str(int((record.received_at + _TRIAGE_TTL).timestamp()))},
        }
        if record.matched_customer_id:
            item["customer_id"] = _s(record.matched_customer_id)
        try:
            self._t.call("put_item", Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as exc:  # only ConditionalCheckFailed reaches here
            raise AlreadyExists(f"triage record {record.record_id} already exists") from exc
        return record.model_copy(deep=True)

    def get(self, record_id: str) -> TriageRecord | None:
        return _load(TriageRecord, self._t.get(self._key(record_id)))

    def find_by_s3_object(self, bucket: str, key: str) -> TriageRecord | None:
        found = _load_all(
            TriageRecord,
            self._t.query(
                IndexName=schema.TRIAGE_BY_S3_OBJECT,
                KeyConditionExpression="s3_object = :o",
                ExpressionAttributeValues={":o": _s(f"{bucket}/{key}")},
            ),
        )
        return min(found, key=lambda r: r.record_id) if found else None

    def list_for_customer(self, customer_id: str) -> list[TriageRecord]:
        return _load_all(
            TriageRecord,
            self._t.query(
                IndexName=schema.TRIAGE_BY_CUSTOMER,
                KeyConditionExpression="customer_id = :c",
                ExpressionAttributeValues={":c": _s(customer_id)},
                ScanIndexForward=False,
            ),
        )


class DynamoStore:
    """The Store protocol on DynamoDB.

    ``resource_or_client``: a boto3 DynamoDB client, or a ``boto3.resource("dynamodb")`` (its
    client is used). ``table_names``: ``Settings.tables`` or a mapping with the same keys.
    """

    def __init__(self, resource_or_client: Any, table_names: Any):
        client = resource_or_client
        if hasattr(client, "Table") and hasattr(client, "meta"):
            client = _ResourceClientAdapter(client.meta.client)
        self.client = client
        self.table_names = table_names
        self._defs = schema.table_definitions(table_names)
        t = {agg: _Table(client, d["TableName"]) for agg, d in self._defs.items()}
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
                if _code(exc) != "ResourceNotFoundException":
                    raise RepositoryError(f"dynamodb describe_table: {_code(exc) or exc}") from exc
            try:
                self.client.create_table(**params)
            except ClientError as exc:
                if _code(exc) != "ResourceInUseException":  # created concurrently: fine
                    raise RepositoryError(f"dynamodb create_table: {_code(exc) or exc}") from exc
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
            table = _Table(self.client, params["TableName"])
            keys = [k["AttributeName"] for k in params["KeySchema"]]
            items = table.scan(
                ProjectionExpression=", ".join(f"#k{i}" for i in range(len(keys))),
                ExpressionAttributeNames={f"#k{i}": k for i, k in enumerate(keys)},
            )
            table.write_batch([{"DeleteRequest": {"Key": {k: it[k] for k in keys}}} for it in items])
