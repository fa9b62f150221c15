"""The transcript recorder for the configured backend, built by the composition root."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable

from chalicelib.transcripts.model import TranscriptRecorder, TranscriptStore


def build_transcript_recorder(settings, clock: Callable[[], datetime], redact: Callable[[str], str]) -> TranscriptRecorder:
    """The recorder on the configured backend: an SQLite file beside the main store, or the
    transcripts table in AWS (created by the stack, with TTL on ``expires_at``)."""
    store: TranscriptStore
    if settings.backend == "sqlite":
        from chalicelib.transcripts.store_sqlite import SqliteTranscriptStore

        store = SqliteTranscriptStore(settings.sqlite_path.with_name(settings.sqlite_path.stem + "-transcripts.db"))
        store.create_schema()
    else:
        from chalicelib.core.aws import client as aws_client
        from chalicelib.transcripts.store_dynamodb import DynamoTranscriptStore

        store = DynamoTranscriptStore(aws_client("dynamodb", settings), settings.transcripts_table)
    return TranscriptRecorder(store, redact, clock, timedelta(hours=settings.transcript_ttl_hours))
