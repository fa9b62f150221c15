"""DynamoDB decision store and pseudonym vault: the deployed backends of the decision log."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterator

from chalicelib.core.clock import sortable_utc, utcnow
from chalicelib.governance.decision_log.chain import StoredRecord
from chalicelib.governance.decision_log.errors import DecisionLogError, DuplicateDecisionId



class DynamoDecisionStore:
    """DynamoDB layout (table ``Settings.tables.decisions``, keys ``pk`` S / ``sk`` N):

    - chain records: ``pk="chain"``, ``sk=seq``, attributes decision_id, at, customer_ref, hash, doc;
    - id markers: ``pk="id#<decision_id>"``, ``sk=0``, attribute seq (enforces unique ids);
    - GSI ``by_ref``: ``customer_ref`` / ``sk`` (sparse: only chain records carry a ref).

    Each append is one TransactWriteItems of the record (condition: seq free) and its id marker
    (condition: id free), so neither a fork nor a duplicate id can be written; a batch of up to
    ``max_batch`` records is one such transaction, all or none. All records share
    one partition, which caps the log at roughly 500 appends/s: far above a support desk's rate.
    """

    CHAIN_PK = "chain"
    max_batch = 50  # TransactWriteItems takes 100 actions: a record and its id marker each

    def __init__(self, client, table_name: str):
        self.client = client
        self.table = table_name

    def create_schema(self) -> None:
        from chalicelib.core.aws import create_table_if_missing

        create_table_if_missing(
            self.client,
            TableName=self.table,
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "N"},
                {"AttributeName": "customer_ref", "AttributeType": "S"},
            ],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "by_ref",
                    "KeySchema": [
                        {"AttributeName": "customer_ref", "KeyType": "HASH"},
                        {"AttributeName": "sk", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )

    def head(self) -> tuple[int, str] | None:
        resp = self.client.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": self.CHAIN_PK}},
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
        )
        items = resp.get("Items", [])
        if not items:
            return None
        return int(items[0]["sk"]["N"]), items[0]["hash"]["S"]

    def try_append(self, seq, decision_id, at, customer_ref, hash, doc) -> bool:
        return self.try_append_many([(seq, decision_id, at, customer_ref, hash, doc)])

    def try_append_many(self, rows) -> bool:
        """All ``rows`` in one TransactWriteItems (a record and its id marker each), or none: False
        when a seq is taken (or being taken), DuplicateDecisionId naming the first id already recorded."""
        if len(rows) > self.max_batch:
            raise ValueError(f"at most {self.max_batch} records per transaction, got {len(rows)}")
        items = []
        for seq, decision_id, at, customer_ref, hash, doc in rows:
            item = {"pk": {"S": self.CHAIN_PK}, "sk": {"N": str(seq)}, "decision_id": {"S": decision_id},
                    "at": {"S": at}, "hash": {"S": hash}, "doc": {"S": doc}}
            if customer_ref:
                item["customer_ref"] = {"S": customer_ref}
            marker = {"pk": {"S": f"id#{decision_id}"}, "sk": {"N": "0"}, "seq": {"N": str(seq)}}
            items += [{"Put": {"TableName": self.table, "Item": it, "ConditionExpression": "attribute_not_exists(pk)"}}
                      for it in (item, marker)]
        try:
            self.client.transact_write_items(TransactItems=items)
            return True
        except self.client.exceptions.TransactionCanceledException as exc:
            codes = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            codes += [None] * (len(items) - len(codes))
            if "TransactionConflict" in codes or any(c == "ConditionalCheckFailed" for c in codes[0::2]):
                return False  # another writer took one of these seqs (or is taking it): re-read the head
            for i, code in enumerate(codes[1::2]):
                if code == "ConditionalCheckFailed":
                    raise DuplicateDecisionId(rows[i][1]) from exc
            raise

    @staticmethod
    def _stored(item: dict) -> StoredRecord:
        return StoredRecord(int(item["sk"]["N"]), item["decision_id"]["S"], item["hash"]["S"], item["doc"]["S"],
                            at=item.get("at", {}).get("S"), customer_ref=item.get("customer_ref", {}).get("S"),
                            has_columns=True)

    def get(self, decision_id: str) -> StoredRecord | None:
        marker = self.client.get_item(
            TableName=self.table, Key={"pk": {"S": f"id#{decision_id}"}, "sk": {"N": "0"}}, ConsistentRead=True
        ).get("Item")
        if not marker:
            return None
        item = self.client.get_item(
            TableName=self.table, Key={"pk": {"S": self.CHAIN_PK}, "sk": marker["seq"]}, ConsistentRead=True
        ).get("Item")
        return self._stored(item) if item else None

    def records(self, since: datetime | None = None) -> Iterator[StoredRecord]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": self.CHAIN_PK}},
            "ConsistentRead": True,
        }
        if since is not None:
            kwargs["FilterExpression"] = "#at >= :since"
            kwargs["ExpressionAttributeNames"] = {"#at": "at"}
            kwargs["ExpressionAttributeValues"][":since"] = {"S": sortable_utc(since)}
        for page in self.client.get_paginator("query").paginate(**kwargs):
            for item in page.get("Items", []):
                yield self._stored(item)

    def records_for_ref(self, customer_ref: str) -> list[StoredRecord]:
        out: list[StoredRecord] = []
        for page in self.client.get_paginator("query").paginate(
            TableName=self.table,
            IndexName="by_ref",
            KeyConditionExpression="customer_ref = :r",
            ExpressionAttributeValues={":r": {"S": customer_ref}},
        ):
            out.extend(self._stored(i) for i in page.get("Items", []))
        return sorted(out, key=lambda r: r.seq)


class DynamoPseudonymVault:
    """Table (default ``da-pseudonym-keys``, env ``DA_TABLE_PSEUDONYM_KEYS``), key ``customer_id`` S.

    In AWS encrypt it with a customer-managed KMS key and keep point-in-time recovery short:
    a deleted key survives in backups until they expire, which bounds how fast erasure is final.
    """

    def __init__(self, client, table_name: str):
        self.client = client
        self.table = table_name

    def create_schema(self) -> None:
        from chalicelib.core.aws import create_table_if_missing

        create_table_if_missing(
            self.client,
            TableName=self.table,
            AttributeDefinitions=[{"AttributeName": "customer_id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "customer_id", "KeyType": "HASH"}],
        )

    def get_key(self, customer_id: str) -> bytes | None:
        item = self.client.get_item(
            TableName=self.table, Key={"customer_id": {"S": customer_id}}, ConsistentRead=True
        ).get("Item")
        return bytes(item["key"]["B"]) if item else None

    def create_key(self, customer_id: str, key: bytes) -> bytes:
        try:
            self.client.put_item(
                TableName=self.table,
                Item={"customer_id": {"S": customer_id}, "key": {"B": key}, "created_at": {"S": sortable_utc(utcnow())}},
                ConditionExpression="attribute_not_exists(customer_id)",
            )
            return key
        except self.client.exceptions.ConditionalCheckFailedException:
            existing = self.get_key(customer_id)
            if existing is None:
                raise DecisionLogError("pseudonym key vanished during creation") from None
            return existing

    def delete_key(self, customer_id: str) -> bool:
        resp = self.client.delete_item(
            TableName=self.table, Key={"customer_id": {"S": customer_id}}, ReturnValues="ALL_OLD"
        )
        return bool(resp.get("Attributes"))

