"""One `tickets` fixture, two backends: the ticket contract runs on SQLite and on DynamoDB (moto),
the latter through a client and through a boto3 resource."""
from __future__ import annotations

import pytest

from tests.support.twins import TWIN_PARAMS, store_twin


@pytest.fixture(params=TWIN_PARAMS)
def tickets(request, tmp_path):
    from chalicelib.tickets.store_dynamodb import DynamoTicketStore
    from chalicelib.tickets.store_sqlite import SqliteTicketStore

    yield from store_twin(request, tmp_path, lambda d: SqliteTicketStore(d / "tickets.db"), DynamoTicketStore,
                          "tickets-test")
