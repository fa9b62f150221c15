"""The stack's DynamoDB tables: one resource per table the application names, its key schema taken
from the code that queries it (chalicelib/storage/dynamo_schema.py, or a service store's own
table_definition), then infra/tables.yaml; stack-scoped names, on-demand billing, KMS, point-in-time
recovery and TTL where records expire. The table half of scripts/merge_template.py.
"""
from __future__ import annotations

import copy
import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from template_iam import MergeError, ref, sub

ROOT = Path(__file__).resolve().parent.parent

# Aggregates whose records expire on their own (TimeToLiveSpecification attribute).
TTL_DEFAULTS = {"verifications": "expires_at", "idempotency": "expiration", "triage": "expires_at"}


def warn(msg: str) -> None:
    print(f"merge_template: WARNING: {msg}", file=sys.stderr)


def load_yaml(path: Path) -> Any:
    with path.open() as fh:
        return yaml.safe_load(fh)


def logical_id(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[_\-]", name) if part)


# ---------------------------------------------------------------------------------- tables
def table_names_fields() -> list[str]:
    """The tables the application names (chalicelib.core.settings.TableNames): each needs a resource."""
    sys.path.insert(0, str(ROOT))
    try:
        from chalicelib.core.settings import TableNames
    finally:
        sys.path.pop(0)
    return list(TableNames.model_fields)


def schema_module():
    """chalicelib/storage/dynamo_schema.py, loaded by path (it imports only the stdlib)."""
    path = ROOT / "chalicelib" / "storage" / "dynamo_schema.py"
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location("_da_dynamo_schema", path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


# Tables of a service that keeps its own table setting (not a TableNames field): name -> logical id.
# Their keys come from the store's own table_definition (chalicelib.tickets.store_dynamodb,
# chalicelib.transcripts.store_dynamodb); the transcripts expire through DynamoDB TTL.
SERVICE_TABLES = {"tickets": "TicketsTable", "transcripts": "TranscriptsTable"}
def build_service_tables() -> dict[str, dict[str, Any]]:
    """Each service table from its store's own table_definition (one definition for code and stack)."""
    sys.path.insert(0, str(ROOT))
    try:
        from chalicelib.tickets import store_dynamodb as tickets_store
        from chalicelib.transcripts import store_dynamodb as transcripts_store
    finally:
        sys.path.pop(0)
    out: dict[str, dict[str, Any]] = {}
    for name, lid in SERVICE_TABLES.items():
        store = {"tickets": tickets_store, "transcripts": transcripts_store}[name]
        props = copy.deepcopy(store.table_definition(f"__{name}__"))
        if getattr(store, "TTL_ATTRIBUTE", None):
            props["TimeToLiveSpecification"] = {"AttributeName": store.TTL_ATTRIBUTE, "Enabled": True}
        props["TableName"] = sub("${AWS::StackName}-" + name)
        props["PointInTimeRecoverySpecification"] = {"PointInTimeRecoveryEnabled": True}
        props["SSESpecification"] = {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": ref("DataKey")}
        out[name] = {"id": lid, "resource": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain",
                                             "UpdateReplacePolicy": "Retain", "Properties": props}}
    return out


def build_tables(infra_dir: Path, aggregates: list[str]) -> dict[str, dict[str, Any]]:
    """aggregate -> (logical id, resource) for each TableNames field. Schema from the code first,
    infra/tables.yaml after."""
    placeholder = {agg: f"__{agg}__" for agg in aggregates}
    from_code: dict[str, dict[str, Any]] = {}
    module = schema_module()
    if module is not None:
        defs = module.table_definitions(placeholder)
        resources = module.cloudformation_resources(placeholder)
        by_name = {res["Properties"]["TableName"]: (lid, res) for lid, res in resources.items()}
        for agg, params in defs.items():
            lid, res = by_name[params["TableName"]]
            from_code[agg] = {"id": lid, "resource": copy.deepcopy(res)}
    else:
        warn("chalicelib/storage/dynamo_schema.py not found: all tables from infra/tables.yaml")
    extra = load_yaml(infra_dir / "tables.yaml") or {}
    tables: dict[str, dict[str, Any]] = {}
    for agg in aggregates:
        if agg in from_code:
            if agg in extra:
                warn(f"table {agg} is defined by dynamo_schema.py; drop it from infra/tables.yaml")
            tables[agg] = from_code[agg]
        elif agg in extra:
            props = copy.deepcopy(extra[agg])
            tables[agg] = {
                "id": logical_id(agg) + "Table",
                "resource": {"Type": "AWS::DynamoDB::Table", "Properties": props},
            }
        else:
            raise MergeError(
                f"TableNames.{agg} has no table: define it in chalicelib/storage/dynamo_schema.py "
                "or infra/tables.yaml"
            )
    for agg, entry in tables.items():
        res = entry["resource"]
        props = res["Properties"]
        # Stack-scoped names: two stacks (staging, prod) can live in one account, and a name
        # stays readable in the console.
        props["TableName"] = sub("${AWS::StackName}-" + agg.replace("_", "-"))
        props["BillingMode"] = "PAY_PER_REQUEST"
        props["PointInTimeRecoverySpecification"] = {"PointInTimeRecoveryEnabled": True}
        props["SSESpecification"] = {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": ref("DataKey")}
        if agg in TTL_DEFAULTS and "TimeToLiveSpecification" not in props:
            props["TimeToLiveSpecification"] = {"AttributeName": TTL_DEFAULTS[agg], "Enabled": True}
        res["DeletionPolicy"] = "Retain"
        res["UpdateReplacePolicy"] = "Retain"
    return tables
