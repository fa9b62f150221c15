"""The DynamoDB plumbing every DynamoDB store shares (the repositories here and the ticket store).

Why one module: each store needs the same answers to the same questions (which botocore failure
is a conflict and which is an outage, how to page a query, how to retry unprocessed batch items,
how to speak attribute-value maps through a ``boto3.resource``), and a second copy of any of
them drifts. Nothing here knows a table's keys.
"""
from __future__ import annotations

import time
from typing import Any, Iterator, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel

from chalicelib.storage.base import RepositoryError

M = TypeVar("M", bound=BaseModel)

BATCH = 25  # BatchWriteItem limit


def str_attr(value: str) -> dict[str, str]:
    """A string attribute value."""
    return {"S": value}


def error_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def load(model: type[M], item: dict | None) -> M | None:
    """The model stored whole in the item's ``data`` attribute (None for no item)."""
    return model.model_validate_json(item["data"]["S"]) if item else None


def load_all(model: type[M], items: Iterator[dict]) -> list[M]:
    return [model.model_validate_json(it["data"]["S"]) for it in items]


def create_table_once(client: Any, definition: dict[str, Any]) -> bool:
    """CreateTable that tolerates the table being there already (a second container, a rerun);
    True when this call created it."""
    try:
        client.create_table(**definition)
    except ClientError as exc:
        if error_code(exc) != "ResourceInUseException":
            raise
        return False
    return True


def low_level_client(client_or_resource: Any) -> Any:
    """A DynamoDB client speaking attribute-value maps, given a client or a ``boto3.resource``."""
    if hasattr(client_or_resource, "Table") and hasattr(client_or_resource, "meta"):
        return ResourceClientAdapter(client_or_resource.meta.client)
    return client_or_resource


class DynamoTable:
    """One table: thin helpers that turn botocore failures into RepositoryError."""

    def __init__(self, client: Any, name: str):
        self.client = client
        self.name = name

    def call(self, op: str, **kwargs: Any) -> dict:
        try:
            return getattr(self.client, op)(TableName=self.name, **kwargs)
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise
            raise RepositoryError(f"dynamodb {op} {self.name}: {error_code(exc) or exc}") from exc
        except BotoCoreError as exc:
            raise RepositoryError(f"dynamodb {op} {self.name}: {exc}") from exc

    def get(self, key: dict[str, dict]) -> dict | None:
        return self.call("get_item", Key=key, ConsistentRead=True).get("Item")

    def pages(self, op: str, **kwargs: Any) -> Iterator[dict]:
        """Every page of a query or scan, following ``LastEvaluatedKey``."""
        start: dict | None = None
        while True:
            page = self.call(op, **kwargs, **({"ExclusiveStartKey": start} if start else {}))
            yield page
            start = page.get("LastEvaluatedKey")
            if not start:
                return

    def query(self, **kwargs: Any) -> Iterator[dict]:
        for page in self.pages("query", **kwargs):
            yield from page.get("Items", [])

    def scan(self, **kwargs: Any) -> Iterator[dict]:
        for page in self.pages("scan", **kwargs):
            yield from page.get("Items", [])

    def delete_all(self, keys: list[str], **scan: Any) -> None:
        """Delete every item (or those a scan ``FilterExpression`` in ``scan`` selects): demo resets."""
        names = {f"#k{i}": k for i, k in enumerate(keys)}
        items = self.scan(ProjectionExpression=", ".join(names), ExpressionAttributeNames=names, **scan)
        self.write_batch([{"DeleteRequest": {"Key": {k: it[k] for k in keys}}} for it in items])

    def put_batch(self, items: list[dict]) -> None:
        self.write_batch([{"PutRequest": {"Item": it}} for it in items])

    def write_batch(self, requests: list[dict]) -> None:
        """BatchWriteItem in chunks of 25, retrying unprocessed items with backoff."""
        for i in range(0, len(requests), BATCH):
            pending = requests[i : i + BATCH]
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


class ResourceClientAdapter:
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
