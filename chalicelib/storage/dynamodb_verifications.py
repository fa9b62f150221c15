"""Step-up verification state in DynamoDB: per-session state changed only by compare-and-set
(``update``), and per-customer failure records counted over the lockout window."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, Callable

from botocore.exceptions import ClientError

from chalicelib.core.models import VerificationState
from chalicelib.storage.base import RepositoryError
from chalicelib.storage.common import HIGH, time_key
from chalicelib.storage.dynamo_table import DynamoTable, error_code, load, str_attr

# Verification records outlive any lockout window, then DynamoDB TTL removes them.
VERIFICATION_TTL = timedelta(days=7)
# Conditional writes lost to concurrent writers before giving up (each loss means another write landed).
CAS_ATTEMPTS = 50


class DynamoVerificationRepo:
    def __init__(self, table: DynamoTable):
        self._t = table

    @staticmethod
    def _expires(at: datetime) -> dict:
        return {"N": str(int((at + VERIFICATION_TTL).timestamp()))}

    def get(self, session_id: str) -> VerificationState | None:
        return load(VerificationState, self._t.get({"pk": str_attr(f"SESSION#{session_id}"), "sk": str_attr("STATE")}))

    def _item(self, state: VerificationState) -> dict:
        # ``rev`` changes on every write, so a conditional write on it (``update``) fails if
        # anything at all was written since the read: failure count, code, verified, lock.
        return {
            "pk": str_attr(f"SESSION#{state.session_id}"),
            "sk": str_attr("STATE"),
            "data": str_attr(state.model_dump_json()),
            "rev": str_attr(uuid.uuid4().hex),
            "expires_at": self._expires(state.updated_at),
        }

    def put(self, state: VerificationState) -> None:
        self._t.call("put_item", Item=self._item(state))

    def update(
        self, session_id: str, change: Callable[[VerificationState | None], VerificationState | None]
    ) -> tuple[VerificationState | None, bool]:
        key = {"pk": str_attr(f"SESSION#{session_id}"), "sk": str_attr("STATE")}
        for _ in range(CAS_ATTEMPTS):
            item = self._t.get(key)
            current = load(VerificationState, item)
            new = change(current.model_copy(deep=True) if current else None)
            if new is None:
                return current, False
            if item is None:
                cond: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
            elif "rev" in item:
                cond = {"ConditionExpression": "rev = :rev", "ExpressionAttributeValues": {":rev": item["rev"]}}
            else:  # written before revisions existed
                cond = {"ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(rev)"}
            try:
                self._t.call("put_item", Item=self._item(new), **cond)
            except ClientError as exc:
                if error_code(exc) != "ConditionalCheckFailedException":
                    raise
                continue  # someone wrote in between: re-read and re-apply the change
            return new, True
        raise RepositoryError(f"dynamodb verifications: no atomic update after {CAS_ATTEMPTS} attempts")

    def failures_for_customer(self, customer_id: str, since: datetime) -> int:
        pages = self._t.pages(
            "query",
            KeyConditionExpression="pk = :p AND sk BETWEEN :lo AND :hi",
            ExpressionAttributeValues={
                ":p": str_attr(f"CUSTOMER#{customer_id}"),
                ":lo": str_attr(f"FAIL#{time_key(since)}"),
                ":hi": str_attr(f"FAIL#{HIGH}"),
            },
            Select="COUNT",
            ConsistentRead=True,
        )
        return sum(int(page.get("Count", 0)) for page in pages)

    def record_customer_failure(self, customer_id: str, at: datetime) -> None:
        # A nonce in the key: two failures in the same microsecond are still two failures.
        self._t.call(
            "put_item",
            Item={
                "pk": str_attr(f"CUSTOMER#{customer_id}"),
                "sk": str_attr(f"FAIL#{time_key(at)}#{uuid.uuid4().hex}"),
                "data": str_attr("{}"),
                "expires_at": self._expires(at),
            },
        )
