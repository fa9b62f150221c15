"""One `transcripts` fixture, two backends: the transcript contract runs on SQLite and on DynamoDB
(moto), the latter through a client and through a boto3 resource."""
from __future__ import annotations

import pytest

from tests.support.twins import TWIN_PARAMS, store_twin


@pytest.fixture(params=TWIN_PARAMS)
def transcripts(request, tmp_path):
    from chalicelib.transcripts.store_dynamodb import DynamoTranscriptStore
    from chalicelib.transcripts.store_sqlite import SqliteTranscriptStore

    yield from store_twin(request, tmp_path, lambda d: SqliteTranscriptStore(d / "transcripts.db"),
                          DynamoTranscriptStore, "transcripts-test")
