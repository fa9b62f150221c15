"""Triage records of forwarded complaint emails in SQLite, found again by their S3 object (a
redelivered mail is not triaged twice) or by the customer they were matched to."""
from __future__ import annotations

from chalicelib.core.models import TriageRecord
from chalicelib.storage.common import time_key
from chalicelib.storage.sqlite_conn import SqliteDb, load_one, load_rows

SCHEMA = """
CREATE TABLE IF NOT EXISTS triage_records (
    record_id    TEXT PRIMARY KEY,
    s3_object    TEXT NOT NULL,
    customer_id  TEXT,
    received_key TEXT NOT NULL,
    data         TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS triage_by_s3_object ON triage_records (s3_object);
CREATE INDEX IF NOT EXISTS triage_by_customer ON triage_records (customer_id, received_key);
"""
TABLES = ("triage_records",)


def s3_ref(bucket: str, key: str) -> str:
    """The one column a mail's S3 object is found by."""
    return f"{bucket}/{key}"


class SqliteTriageRepo:
    def __init__(self, db: SqliteDb):
        self._db = db

    def create(self, record: TriageRecord) -> TriageRecord:
        self._db.insert(
            "INSERT INTO triage_records (record_id, s3_object, customer_id, received_key, data)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                record.record_id,
                s3_ref(record.s3_bucket, record.s3_key),
                record.matched_customer_id,
                time_key(record.received_at),
                record.model_dump_json(),
            ),
            exists=f"triage record {record.record_id} already exists",
        )
        return record.model_copy(deep=True)

    def get(self, record_id: str) -> TriageRecord | None:
        return load_one(TriageRecord, self._db.read("SELECT data FROM triage_records WHERE record_id = ?", (record_id,)))

    def find_by_s3_object(self, bucket: str, key: str) -> TriageRecord | None:
        return load_one(
            TriageRecord,
            self._db.read(
                "SELECT data FROM triage_records WHERE s3_object = ? ORDER BY record_id LIMIT 1",
                (s3_ref(bucket, key),),
            ),
        )

    def list_for_customer(self, customer_id: str) -> list[TriageRecord]:
        return load_rows(
            TriageRecord,
            self._db.read(
                "SELECT data FROM triage_records WHERE customer_id = ? ORDER BY received_key DESC, record_id DESC",
                (customer_id,),
            ),
        )

    def list_skipped(self, code: str, limit: int = 100) -> list[TriageRecord]:
        # Read from the stored document (json_extract): no column to migrate in existing files.
        return load_rows(
            TriageRecord,
            self._db.read(
                "SELECT data FROM triage_records WHERE json_extract(data, '$.status') = 'skipped'"
                " AND json_extract(data, '$.reasons[0]') = ? ORDER BY received_key DESC, record_id DESC LIMIT ?",
                (code, max(0, int(limit))),
            ),
        )
