"""Customers, cards, transactions and fraud decisions in DynamoDB: the account data a verified
customer may read, each table partitioned by ``customer_id`` so a read always names its owner."""
from __future__ import annotations

from datetime import datetime

from chalicelib.core.models import Card, Customer, FraudDecision, Transaction
from chalicelib.storage import dynamo_schema as schema
from chalicelib.storage.common import HIGH, time_key
from chalicelib.storage.dynamo_table import DynamoTable, load, load_all, str_attr


class DynamoCustomerRepo:
    def __init__(self, table: DynamoTable):
        self._t = table

    def put(self, customer: Customer) -> None:
        item = {"customer_id": str_attr(customer.customer_id), "data": str_attr(customer.model_dump_json())}
        email_lc = customer.email.strip().lower()
        if email_lc:  # an empty string cannot be an index key
            item["email_lc"] = str_attr(email_lc)
        self._t.call("put_item", Item=item)

    def get(self, customer_id: str) -> Customer | None:
        return load(Customer, self._t.get({"customer_id": str_attr(customer_id)}))

    def list_ids(self) -> list[str]:
        """A scan: for seeding and operations, never on a customer's turn."""
        return sorted(it["customer_id"]["S"] for it in self._t.scan(ProjectionExpression="customer_id"))

    def delete(self, customer_id: str) -> None:
        self._t.call("delete_item", Key={"customer_id": str_attr(customer_id)})

    def find_by_email(self, email: str) -> list[Customer]:
        email_lc = email.strip().lower()
        if not email_lc:
            return []
        found = load_all(
            Customer,
            self._t.query(
                IndexName=schema.CUSTOMERS_BY_EMAIL,
                KeyConditionExpression="email_lc = :e",
                ExpressionAttributeValues={":e": str_attr(email_lc)},
            ),
        )
        return sorted(found, key=lambda c: c.customer_id)


class DynamoCardRepo:
    def __init__(self, table: DynamoTable):
        self._t = table

    @staticmethod
    def _item(card: Card) -> dict:
        return {
            "customer_id": str_attr(card.customer_id),
            "card_id": str_attr(card.card_id),
            "last4": str_attr(card.last4),
            "data": str_attr(card.model_dump_json()),
        }

    def put(self, card: Card) -> None:
        self._t.call("put_item", Item=self._item(card))

    def list_for_customer(self, customer_id: str) -> list[Card]:
        return load_all(
            Card,
            self._t.query(
                KeyConditionExpression="customer_id = :c",
                ExpressionAttributeValues={":c": str_attr(customer_id)},
                ConsistentRead=True,
            ),
        )

    def find_by_last4(self, last4: str) -> list[Card]:
        cards = load_all(
            Card,
            self._t.query(
                IndexName=schema.CARDS_BY_LAST4,
                KeyConditionExpression="last4 = :l",
                ExpressionAttributeValues={":l": str_attr(last4)},
            ),
        )
        return sorted(cards, key=lambda c: (c.customer_id, c.card_id))


class DynamoTransactionRepo:
    def __init__(self, table: DynamoTable):
        self._t = table

    @staticmethod
    def _item(t: Transaction) -> dict:
        return {
            "customer_id": str_attr(t.customer_id),
            "txn_id": str_attr(t.txn_id),
            "occurred_sk": str_attr(f"{time_key(t.occurred_at)}#{t.txn_id}"),
            "data": str_attr(t.model_dump_json()),
        }

    def put(self, txn: Transaction) -> None:
        self._t.call("put_item", Item=self._item(txn))

    def put_many(self, txns: list[Transaction]) -> None:
        self._t.put_batch([self._item(t) for t in txns])

    def get(self, customer_id: str, txn_id: str) -> Transaction | None:
        return load(Transaction, self._t.get({"customer_id": str_attr(customer_id), "txn_id": str_attr(txn_id)}))

    def list_for_customer(
        self, customer_id: str, since: datetime | None = None, until: datetime | None = None
    ) -> list[Transaction]:
        values = {":c": str_attr(customer_id)}
        cond = "customer_id = :c"
        lo = time_key(since) if since is not None else None
        hi = f"{time_key(until)}#{HIGH}" if until is not None else None
        if lo and hi:
            cond += " AND occurred_sk BETWEEN :lo AND :hi"
            values.update({":lo": str_attr(lo), ":hi": str_attr(hi)})
        elif lo:
            cond += " AND occurred_sk >= :lo"
            values[":lo"] = str_attr(lo)
        elif hi:
            cond += " AND occurred_sk <= :hi"
            values[":hi"] = str_attr(hi)
        return load_all(
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
    def __init__(self, table: DynamoTable):
        self._t = table

    @staticmethod
    def _item(d: FraudDecision) -> dict:
        return {
            "customer_id": str_attr(d.customer_id),
            "decision_id": str_attr(d.decision_id),
            "txn_sk": str_attr(f"{d.txn_id}#{time_key(d.created_at)}#{d.decision_id}"),
            "data": str_attr(d.model_dump_json()),
        }

    def put(self, decision: FraudDecision) -> None:
        self._t.call("put_item", Item=self._item(decision))

    def get_for_transaction(self, customer_id: str, txn_id: str) -> FraudDecision | None:
        """The latest decision on the transaction (a re-scored payment keeps its history)."""
        page = self._t.call(
            "query",
            IndexName=schema.FRAUD_BY_TXN,
            KeyConditionExpression="customer_id = :c AND begins_with(txn_sk, :t)",
            ExpressionAttributeValues={":c": str_attr(customer_id), ":t": str_attr(f"{txn_id}#")},
            ScanIndexForward=False,
            ConsistentRead=True,
            Limit=1,
        )
        items = page.get("Items", [])
        return load(FraudDecision, items[0] if items else None)

    def list_for_customer(self, customer_id: str) -> list[FraudDecision]:
        """Newest first."""
        found = load_all(
            FraudDecision,
            self._t.query(
                KeyConditionExpression="customer_id = :c",
                ExpressionAttributeValues={":c": str_attr(customer_id)},
                ConsistentRead=True,
            ),
        )
        return sorted(found, key=lambda d: (time_key(d.created_at), d.decision_id), reverse=True)
