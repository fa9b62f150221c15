"""Dispute cases and hand-offs to humans in DynamoDB: the records whose creation must happen at
most once per charge (or per hand-off id), enforced by conditional writes rather than reads."""
from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.core.models import CaseState, DisputeCase, Handoff
from chalicelib.storage import dynamo_schema as schema
from chalicelib.storage.base import AlreadyExists, NotFound, RepositoryError
from chalicelib.storage.common import time_key, transitioned, with_initial_history
from chalicelib.storage.dynamo_table import DynamoTable, error_code, load, load_all, str_attr

TRANSITION_ATTEMPTS = 3


class DynamoCaseRepo:
    def __init__(self, table: DynamoTable):
        self._t = table

    @staticmethod
    def _case_key(customer_id: str, case_id: str) -> dict:
        return {"customer_id": str_attr(customer_id), "sk": str_attr(f"CASE#{case_id}")}

    @staticmethod
    def _guard_key(customer_id: str, txn_id: str) -> dict:
        return {"customer_id": str_attr(customer_id), "sk": str_attr(f"TXN#{txn_id}")}

    def _item(self, case: DisputeCase) -> dict:
        return {
            **self._case_key(case.customer_id, case.case_id),
            "case_id": str_attr(case.case_id),
            "txn_id": str_attr(case.txn_id),
            "state": str_attr(case.state.value),
            "created_key": str_attr(time_key(case.created_at)),
            "updated_key": str_attr(time_key(case.updated_at)),
            "data": str_attr(case.model_dump_json()),
        }

    def create(self, case: DisputeCase) -> DisputeCase:
        """The case and its per-transaction guard item are written in one transaction, each only
        if absent: a replayed event (or the same charge raised by chat and by email) cannot make
        a second case, and a reused case id cannot overwrite another case."""
        stored = with_initial_history(case)
        guard = {**self._guard_key(stored.customer_id, stored.txn_id), "case_id": str_attr(stored.case_id)}
        try:
            self._t.client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._t.name,
                            "Item": self._item(stored),
                            "ConditionExpression": "attribute_not_exists(sk)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._t.name,
                            "Item": guard,
                            "ConditionExpression": "attribute_not_exists(sk)",
                        }
                    },
                ]
            )
        except ClientError as exc:
            if error_code(exc) == "TransactionCanceledException":
                reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
                if "ConditionalCheckFailed" in reasons or not reasons:
                    raise AlreadyExists(
                        f"case {stored.case_id} or a case on {stored.txn_id} already exists for {stored.customer_id}"
                    ) from exc
            raise RepositoryError(f"dynamodb transact_write_items {self._t.name}: {error_code(exc) or exc}") from exc
        except BotoCoreError as exc:
            raise RepositoryError(f"dynamodb transact_write_items {self._t.name}: {exc}") from exc
        return stored

    def get(self, customer_id: str, case_id: str) -> DisputeCase | None:
        return load(DisputeCase, self._t.get(self._case_key(customer_id, case_id)))

    def find_by_transaction(self, customer_id: str, txn_id: str) -> DisputeCase | None:
        """Through the guard item: two strongly consistent reads, where a GSI would be
        eventually consistent exactly when idempotency needs an up-to-date answer."""
        guard = self._t.get(self._guard_key(customer_id, txn_id))
        if not guard:
            return None
        return self.get(customer_id, guard["case_id"]["S"])

    def list_for_customer(self, customer_id: str) -> list[DisputeCase]:
        found = load_all(
            DisputeCase,
            self._t.query(
                KeyConditionExpression="customer_id = :c AND begins_with(sk, :p)",
                ExpressionAttributeValues={":c": str_attr(customer_id), ":p": str_attr("CASE#")},
                ConsistentRead=True,
            ),
        )
        return sorted(found, key=lambda c: (time_key(c.created_at), c.case_id), reverse=True)

    def transition(self, customer_id: str, case_id: str, new_state: CaseState, note: str = "", *,
                   actor: str | None = None, actor_kind: str | None = None) -> DisputeCase:
        """Optimistic: the write succeeds only if the state (and update time) we read are still
        there. On a lost race we re-read and re-check, so a transition is never applied on top of
        a state it is not legal from."""
        for _ in range(TRANSITION_ATTEMPTS):
            current = self.get(customer_id, case_id)
            if current is None:
                raise NotFound(f"case {case_id} not found for {customer_id}")
            updated = transitioned(current, new_state, note, actor=actor, actor_kind=actor_kind)
            try:
                self._t.call(
                    "put_item",
                    Item=self._item(updated),
                    ConditionExpression="#st = :old_state AND updated_key = :old_updated",
                    ExpressionAttributeNames={"#st": "state"},
                    ExpressionAttributeValues={
                        ":old_state": str_attr(current.state.value),
                        ":old_updated": str_attr(time_key(current.updated_at)),
                    },
                )
            except ClientError as exc:  # only ConditionalCheckFailed reaches here
                del exc
                continue
            return updated
        raise RepositoryError(f"case {case_id}: concurrent updates, transition to {new_state.value} not applied")


class DynamoHandoffRepo:
    def __init__(self, table: DynamoTable):
        self._t = table

    def create(self, handoff: Handoff) -> Handoff:
        try:
            self._t.call(
                "put_item",
                Item={
                    "handoff_id": str_attr(handoff.handoff_id),
                    "session_id": str_attr(handoff.session_id),
                    "created_sk": str_attr(f"{time_key(handoff.created_at)}#{handoff.handoff_id}"),
                    "data": str_attr(handoff.model_dump_json()),
                },
                ConditionExpression="attribute_not_exists(handoff_id)",
            )
        except ClientError as exc:
            raise AlreadyExists(f"handoff {handoff.handoff_id} already exists") from exc
        return handoff.model_copy(deep=True)

    def get(self, handoff_id: str) -> Handoff | None:
        return load(Handoff, self._t.get({"handoff_id": str_attr(handoff_id)}))

    def list_for_session(self, session_id: str) -> list[Handoff]:
        """Oldest first: the order the session asked for them."""
        return load_all(
            Handoff,
            self._t.query(
                IndexName=schema.HANDOFFS_BY_SESSION,
                KeyConditionExpression="session_id = :s",
                ExpressionAttributeValues={":s": str_attr(session_id)},
            ),
        )
