"""Tickets in DynamoDB: conditional writes make a replayed create a no-op and a stale save fail.

Keys: ``ticket_id`` (hash). Index ``by_queue`` (queue, prio_due) lists a queue in the order agents
work it; sparse index ``open_by_customer`` (open_key = customer#reason, created_key) holds only
tickets that are not resolved, so the duplicate check reads one small partition.

The open lock is an item of the same table keyed ``open#<customer>#<reason>`` (attribute
``holder``): put with ``attribute_not_exists`` in the same transaction as the ticket, deleted in
the transaction that saves its holder resolved. Two different events of one customer for one
reason at the same instant: one transaction wins, the other learns the holder and merges.
"""
from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.storage.common import time_key
from chalicelib.storage.dynamo_table import DynamoTable, error_code, low_level_client
from chalicelib.tickets.model import Queue, Ticket, TicketStatus
from chalicelib.storage.base import RepositoryError
from chalicelib.tickets.store import AlreadyExists, NotFound, OpenTicketExists, StaleTicket, open_lock_key, sort_for_agents

BY_QUEUE = "by_queue"
OPEN_BY_CUSTOMER = "open_by_customer"


def table_definition(name: str) -> dict[str, Any]:
    """CreateTable parameters (also the shape the CloudFormation template should declare)."""
    s = lambda *ns: [{"AttributeName": n, "AttributeType": "S"} for n in ns]  # noqa: E731

    def key(h: str, r: str | None = None) -> list[dict[str, str]]:
        return [{"AttributeName": h, "KeyType": "HASH"}] + ([{"AttributeName": r, "KeyType": "RANGE"}] if r else [])

    return {
        "TableName": name,
        "AttributeDefinitions": s("ticket_id", "queue", "prio_due", "open_key", "created_key"),
        "KeySchema": key("ticket_id"),
        "GlobalSecondaryIndexes": [
            {"IndexName": BY_QUEUE, "KeySchema": key("queue", "prio_due"), "Projection": {"ProjectionType": "ALL"}},
            {"IndexName": OPEN_BY_CUSTOMER, "KeySchema": key("open_key", "created_key"),
             "Projection": {"ProjectionType": "ALL"}},
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }


def _open_key(t: Ticket) -> str | None:
    return f"{t.customer_ref}#{t.reason}" if t.customer_ref and t.is_open else None


class DynamoTicketStore:
    def __init__(self, client_or_resource: Any, table_name: str = "tickets"):
        self._client = low_level_client(client_or_resource)
        self._t = DynamoTable(self._client, table_name)
        self.table_name = table_name

    def create_schema(self) -> None:
        try:
            self._client.create_table(**table_definition(self.table_name))
        except ClientError as exc:
            if error_code(exc) != "ResourceInUseException":
                raise

    @staticmethod
    def _item(t: Ticket) -> dict:
        item = {
            "ticket_id": {"S": t.ticket_id},
            "queue": {"S": t.queue.value},
            "status": {"S": t.status.value},
            "prio_due": {"S": f"{t.priority.value}#{time_key(t.sla_due)}#{t.ticket_id}"},
            "created_key": {"S": time_key(t.created_at)},
            "version": {"N": str(t.version)},
            "data": {"S": t.model_dump_json()},
        }
        if (ok := _open_key(t)) is not None:
            item["open_key"] = {"S": ok}
        return item

    @staticmethod
    def _load(item: dict) -> Ticket:
        return Ticket.model_validate_json(item["data"]["S"])

    def _transact(self, items: list[dict]) -> list[str] | None:
        """TransactWriteItems on this table; None when it committed, else each item's cancellation
        code ("None" for an item that was not the cause). Outages raise RepositoryError."""
        try:
            self._client.transact_write_items(TransactItems=[
                {op: {"TableName": self.table_name, **body}} for it in items for op, body in it.items()])
            return None
        except ClientError as exc:
            if error_code(exc) != "TransactionCanceledException":
                raise RepositoryError(f"dynamodb transact_write_items {self.table_name}: {error_code(exc) or exc}") from exc
            reasons = [str(r.get("Code", "None")) for r in exc.response.get("CancellationReasons") or []]
            if any(code not in ("None", "ConditionalCheckFailed") for code in reasons) or not reasons:
                # TransactionConflict, throttling ...: a retry may pass
                raise RepositoryError(f"dynamodb transaction on {self.table_name} cancelled: {reasons}") from exc
            return reasons
        except BotoCoreError as exc:
            raise RepositoryError(f"dynamodb transact_write_items {self.table_name}: {exc}") from exc

    def create(self, ticket: Ticket) -> Ticket:
        if not (ticket.customer_ref and ticket.is_open):
            try:
                self._t.call("put_item", Item=self._item(ticket), ConditionExpression="attribute_not_exists(ticket_id)")
            except ClientError:  # only ConditionalCheckFailed reaches here (DynamoTable wraps the rest)
                raise AlreadyExists(ticket.ticket_id) from None
            return ticket.model_copy(deep=True)
        key = open_lock_key(ticket.customer_ref, ticket.reason)
        failed = self._transact([
            {"Put": {"Item": self._item(ticket), "ConditionExpression": "attribute_not_exists(ticket_id)"}},
            {"Put": {"Item": {"ticket_id": {"S": key}, "holder": {"S": ticket.ticket_id}},
                     "ConditionExpression": "attribute_not_exists(ticket_id)"}},
        ])
        if failed is None:
            return ticket.model_copy(deep=True)
        if failed[0] == "ConditionalCheckFailed":
            raise AlreadyExists(ticket.ticket_id)
        raise OpenTicketExists(key, self.lock_holder(ticket.customer_ref, ticket.reason) or "?")

    def lock_holder(self, customer_ref: str, reason: str) -> str | None:
        item = self._t.get({"ticket_id": {"S": open_lock_key(customer_ref, reason)}})
        return item["holder"]["S"] if item and "holder" in item else None

    def get(self, ticket_id: str) -> Ticket | None:
        item = self._t.get({"ticket_id": {"S": ticket_id}})
        return self._load(item) if item else None

    def save(self, ticket: Ticket) -> Ticket:
        saved = ticket.model_copy(deep=True, update={"version": ticket.version + 1})
        if not saved.is_open and saved.customer_ref and \
                self.lock_holder(saved.customer_ref, saved.reason) == saved.ticket_id:
            return self._save_releasing(ticket, saved)
        try:
            self._t.call(
                "put_item",
                Item=self._item(saved),
                ConditionExpression="attribute_exists(ticket_id) AND version = :v",
                ExpressionAttributeValues={":v": {"N": str(ticket.version)}},
            )
        except ClientError:
            raise (StaleTicket(ticket.ticket_id) if self.get(ticket.ticket_id) else NotFound(ticket.ticket_id)) from None
        return saved

    def _save_releasing(self, ticket: Ticket, saved: Ticket) -> Ticket:
        """The resolving save and the lock's release, one transaction (the holder cannot change
        meanwhile: only this ticket's resolution deletes the lock, and its version guards that)."""
        failed = self._transact([
            {"Put": {"Item": self._item(saved), "ConditionExpression": "attribute_exists(ticket_id) AND version = :v",
                     "ExpressionAttributeValues": {":v": {"N": str(ticket.version)}}}},
            {"Delete": {"Key": {"ticket_id": {"S": open_lock_key(saved.customer_ref or "", saved.reason)}},
                        "ConditionExpression": "holder = :h",
                        "ExpressionAttributeValues": {":h": {"S": saved.ticket_id}}}},
        ])
        if failed is not None:
            raise StaleTicket(ticket.ticket_id) if self.get(ticket.ticket_id) else NotFound(ticket.ticket_id)
        return saved

    def find_open(self, customer_ref: str, reason: str) -> Ticket | None:
        holder = self.lock_holder(customer_ref, reason)
        if holder is not None and (held := self.get(holder)) is not None and held.is_open:
            return held
        items = self._t.query(
            IndexName=OPEN_BY_CUSTOMER,
            KeyConditionExpression="open_key = :k",
            ExpressionAttributeValues={":k": {"S": f"{customer_ref}#{reason}"}},
        )
        found = sorted((self._load(i) for i in items), key=lambda t: (t.created_at, t.ticket_id))
        return found[0] if found else None

    def list(self, queue: Queue | None = None, status: TicketStatus | None = None) -> list[Ticket]:
        if queue is not None:
            items = self._t.query(
                IndexName=BY_QUEUE,
                KeyConditionExpression="#q = :q",
                ExpressionAttributeNames={"#q": "queue"},
                ExpressionAttributeValues={":q": {"S": Queue(queue).value}},
            )
        else:
            items = self._t.scan()
        tickets = [self._load(i) for i in items if "data" in i]  # not the open locks
        if status is not None:
            tickets = [t for t in tickets if t.status is TicketStatus(status)]
        return sort_for_agents(tickets)
