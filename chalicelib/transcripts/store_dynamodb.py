"""Transcripts in DynamoDB: ``pk`` = the hashed session key, ``sk`` = ``T#<seq>`` zero-padded, the
turn whole in ``data`` and ``expires_at`` for the table's TTL (DynamoDB deletes late, so reads
skip expired items themselves).

A turn's sequence number is taken by a conditional write (one transaction for a customer message
and its replies): two writers on one session cannot both take it; the loser re-reads and retries.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

from botocore.exceptions import ClientError

from chalicelib.storage.base import RepositoryError
from chalicelib.storage.dynamo_table import DynamoTable, create_table_once, error_code, load_all, low_level_client, str_attr
from chalicelib.transcripts.model import Role, TranscriptTurn, next_turns, visible_to

TTL_ATTRIBUTE = "expires_at"
SEQ_ATTEMPTS = 20


def table_definition(name: str) -> dict[str, Any]:
    """CreateTable parameters (also the shape the CloudFormation template declares)."""
    return {
        "TableName": name,
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                 {"AttributeName": "sk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "BillingMode": "PAY_PER_REQUEST",
    }


def _sk(seq: int) -> str:
    return f"T#{seq:06d}"


class DynamoTranscriptStore:
    def __init__(self, client_or_resource: Any, table_name: str = "transcripts"):
        self._client = low_level_client(client_or_resource)
        self._t = DynamoTable(self._client, table_name)
        self.table_name = table_name

    def create_schema(self) -> None:
        if create_table_once(self._client, table_definition(self.table_name)):
            self._client.update_time_to_live(TableName=self.table_name,
                                             TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE})

    def _next_seq(self, session_id: str) -> int:
        page = self._t.call("query", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": str_attr(session_id)},
                            ScanIndexForward=False, Limit=1, ConsistentRead=True)
        items = page.get("Items", [])
        return int(items[0]["sk"]["S"][2:]) + 1 if items else 0

    def append(self, session_id: str, owner: str, entries: Sequence[tuple[Role, str]], at: datetime,
               expires_at: int) -> list[TranscriptTurn]:
        for _ in range(SEQ_ATTEMPTS):
            turns = next_turns(session_id, owner, entries, at, expires_at, self._next_seq(session_id))
            puts = [{"Put": {"TableName": self.table_name, "ConditionExpression": "attribute_not_exists(sk)", "Item": {
                "pk": str_attr(session_id), "sk": str_attr(_sk(t.seq)), "data": str_attr(t.model_dump_json()),
                TTL_ATTRIBUTE: {"N": str(t.expires_at)}}}} for t in turns]
            try:
                self._client.transact_write_items(TransactItems=puts)
            except ClientError as exc:
                if error_code(exc) in ("TransactionCanceledException", "ConditionalCheckFailedException"):
                    continue  # another writer took the number: read the new end and try again
                raise RepositoryError(f"dynamodb transact_write_items {self.table_name}: {error_code(exc)}") from exc
            return turns
        raise RepositoryError(f"dynamodb transcripts: no free sequence number after {SEQ_ATTEMPTS} attempts")

    def read(self, session_id: str, reader: str | None, now: datetime) -> list[TranscriptTurn]:
        items = self._t.query(KeyConditionExpression="pk = :p AND begins_with(sk, :t)", ConsistentRead=True,
                              ExpressionAttributeValues={":p": str_attr(session_id), ":t": str_attr("T#")})
        live = [it for it in items if int(it.get(TTL_ATTRIBUTE, {}).get("N", "0")) > int(now.timestamp())]
        return visible_to(load_all(TranscriptTurn, iter(live)), reader)
