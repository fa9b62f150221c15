"""Triage records of forwarded complaint emails in DynamoDB, found again by their S3 object (a
redelivered mail is not triaged twice) or by the customer they were matched to."""
from __future__ import annotations

from datetime import timedelta
from itertools import islice

from botocore.exceptions import ClientError

from chalicelib.core.models import TriageRecord, TriageStatus
from chalicelib.storage import dynamo_schema as schema
from chalicelib.storage.base import AlreadyExists
from chalicelib.storage.common import time_key
from chalicelib.storage.dynamo_table import DynamoTable, load, load_all, str_attr

# Triage records are complaint records: kept three years (Reg E keeps two, FCA DISP three), then
# DynamoDB TTL removes them. The raw mail they came from expires from S3 much sooner.
TRIAGE_TTL = timedelta(days=1096)


class DynamoTriageRepo:
    def __init__(self, table: DynamoTable):
        self._t = table

    @staticmethod
    def _key(record_id: str) -> dict:
        return {"pk": str_attr(record_id), "sk": str_attr("RECORD")}

    def create(self, record: TriageRecord) -> TriageRecord:
        item = {
            **self._key(record.record_id),
            "s3_object": str_attr(f"{record.s3_bucket}/{record.s3_key}"),
            "received_sk": str_attr(f"{time_key(record.received_at)}#{record.record_id}"),
            "data": str_attr(record.model_dump_json()),
            "expires_at": {"N": str(int((record.received_at + TRIAGE_TTL).timestamp()))},
        }
        if record.matched_customer_id:
            item["customer_id"] = str_attr(record.matched_customer_id)
        if record.status is TriageStatus.skipped and record.reasons:
            item["skip_code"] = str_attr(record.reasons[0])
        try:
            self._t.call("put_item", Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as exc:  # only ConditionalCheckFailed reaches here
            raise AlreadyExists(f"triage record {record.record_id} already exists") from exc
        return record.model_copy(deep=True)

    def get(self, record_id: str) -> TriageRecord | None:
        return load(TriageRecord, self._t.get(self._key(record_id)))

    def find_by_s3_object(self, bucket: str, key: str) -> TriageRecord | None:
        found = load_all(
            TriageRecord,
            self._t.query(
                IndexName=schema.TRIAGE_BY_S3_OBJECT,
                KeyConditionExpression="s3_object = :o",
                ExpressionAttributeValues={":o": str_attr(f"{bucket}/{key}")},
            ),
        )
        return min(found, key=lambda r: r.record_id) if found else None

    def list_for_customer(self, customer_id: str) -> list[TriageRecord]:
        return load_all(
            TriageRecord,
            self._t.query(
                IndexName=schema.TRIAGE_BY_CUSTOMER,
                KeyConditionExpression="customer_id = :c",
                ExpressionAttributeValues={":c": str_attr(customer_id)},
                ScanIndexForward=False,
            ),
        )

    def list_skipped(self, code: str, limit: int = 100) -> list[TriageRecord]:
        items = self._t.query(IndexName=schema.TRIAGE_BY_SKIP, KeyConditionExpression="skip_code = :c",
                              ExpressionAttributeValues={":c": str_attr(code)}, ScanIndexForward=False)
        return load_all(TriageRecord, islice(items, max(0, limit)))
