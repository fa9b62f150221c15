"""Rollout records in DynamoDB: the guard observations, stage history (and stage) shared by every container.

Why not per container: in AWS a capability's decisions land on many Lambda containers at once (the
Lex hook, the agent API, the card stream, the email consumer), and a guard judged on one container's
share of the traffic sees a fraction of the overturns and never crosses. One table (``rollout`` in
``TableNames``) holds, under ``pk`` / ``sk``:

- ``OBS#<capability>#<shard>`` / ``<at>#<nonce>``: one guard observation. Writes are spread over
  ``OBS_SHARDS`` partitions (the card stream observes every model call), a read queries each shard
  for the window. Items expire ``OBS_RETENTION_DAYS`` after they were observed (TTL ``expires_at``):
  the decisions themselves stay in the decision log; these are only the guards' sample;
- ``HIST#<capability>`` / ``<at>#<nonce>``: one stage change (kept, never expires);
- ``STAGE#<capability>`` / ``CURRENT``: the stage, written in the same transaction as its history
  item. In AWS the stage an operator flips lives in SSM (:class:`SsmStageStore` in front of this).

Times are UTC ISO strings, so ``sk`` order is time order.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.governance.rollout_store import Observation, StageChange, utc_key
from chalicelib.storage.base import RepositoryError
from chalicelib.storage.dynamo_schema import rollout_table_definition
from chalicelib.storage.dynamo_table import DynamoTable, error_code, low_level_client

OBS_SHARDS = 4
OBS_RETENTION_DAYS = 35  # a guard window is hours to days; a month's sample serves any audit of a rollback
CURRENT = "CURRENT"


def _bool(item: dict, name: str) -> bool:
    return bool(item.get(name, {}).get("BOOL", False))


def _num(item: dict, name: str) -> float | None:
    value = item.get(name, {}).get("N")
    return float(value) if value is not None else None


class DynamoRolloutStore:
    """The same contract as :class:`~chalicelib.governance.rollout_store.SqliteRolloutStore`."""

    def __init__(self, client_or_resource: Any, table_name: str):
        self._client = low_level_client(client_or_resource)
        self._t = DynamoTable(self._client, table_name)
        self.table_name = table_name

    def create_schema(self) -> None:
        """Tests and DynamoDB Local; deployed stacks get the table from CloudFormation."""
        params = rollout_table_definition(self.table_name)
        try:
            self._client.create_table(**params)
        except ClientError as exc:
            if error_code(exc) != "ResourceInUseException":
                raise

    # ---- stage and history -------------------------------------------------------------------

    def get_stage(self, capability: str) -> tuple[int, str] | None:
        item = self._t.get({"pk": {"S": f"STAGE#{capability}"}, "sk": {"S": CURRENT}})
        return (int(item["stage"]["N"]), item["since"]["S"]) if item else None

    def set_stage(self, capability: str, stage: int, since: datetime, reason: str, from_stage: int) -> None:
        """The stage and its history item in one transaction: no stage without the reason it changed."""
        at = utc_key(since)
        items = [
            {"pk": {"S": f"STAGE#{capability}"}, "sk": {"S": CURRENT}, "stage": {"N": str(stage)}, "since": {"S": at}},
            {"pk": {"S": f"HIST#{capability}"}, "sk": {"S": f"{at}#{secrets.token_hex(6)}"}, "at": {"S": at},
             "from_stage": {"N": str(from_stage)}, "to_stage": {"N": str(stage)}, "reason": {"S": reason}},
        ]
        try:
            self._client.transact_write_items(
                TransactItems=[{"Put": {"TableName": self.table_name, "Item": it}} for it in items])
        except (ClientError, BotoCoreError) as exc:
            code = error_code(exc) if isinstance(exc, ClientError) else ""
            raise RepositoryError(f"dynamodb transact_write_items {self.table_name}: {code or exc}") from exc

    def history(self, capability: str) -> list[StageChange]:
        items = self._t.query(KeyConditionExpression="pk = :pk", ExpressionAttributeValues={
            ":pk": {"S": f"HIST#{capability}"}}, ConsistentRead=True)
        return [StageChange(capability, it["at"]["S"], int(it["from_stage"]["N"]), int(it["to_stage"]["N"]),
                            it["reason"]["S"]) for it in items]

    def reset(self) -> None:
        """Forget every stage, its history and every observation (demo reseeding against DynamoDB Local)."""
        self._t.delete_all(["pk", "sk"])

    # ---- guard observations ------------------------------------------------------------------

    def observe(self, capability: str, at: datetime, obs: Observation) -> None:
        key = utc_key(at)
        nonce = secrets.token_hex(8)
        item: dict[str, dict] = {
            "pk": {"S": f"OBS#{capability}#{int(nonce, 16) % OBS_SHARDS}"}, "sk": {"S": f"{key}#{nonce}"},
            "escalated": {"BOOL": obs.escalated}, "overturned": {"BOOL": obs.overturned},
            "disagreed": {"BOOL": obs.disagreed_with_rules}, "cost": {"N": repr(float(obs.cost_usd))},
            "expires_at": {"N": str(int((at + timedelta(days=OBS_RETENTION_DAYS)).timestamp()))},
        }
        if obs.confidence is not None:
            item["confidence"] = {"N": repr(float(obs.confidence))}
        if obs.label:
            item["label"] = {"S": obs.label}
        self._t.call("put_item", Item=item)

    def observations(self, capability: str, since: datetime, until: datetime) -> list[Observation]:
        out: list[Observation] = []
        for shard in range(OBS_SHARDS):
            items = self._t.query(
                KeyConditionExpression="pk = :pk AND sk BETWEEN :a AND :b", ConsistentRead=True,
                ExpressionAttributeValues={":pk": {"S": f"OBS#{capability}#{shard}"}, ":a": {"S": utc_key(since)},
                                           ":b": {"S": utc_key(until) + "#~"}})
            out += [Observation(_bool(it, "escalated"), _bool(it, "overturned"), _bool(it, "disagreed"),
                                _num(it, "cost") or 0.0, _num(it, "confidence"), it.get("label", {}).get("S"))
                    for it in items]
        return out
