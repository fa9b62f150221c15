"""Merge infra/ and the Lex bot into Chalice's SAM template: one stack that creates everything.

Why not `chalice package --merge-template`: that is a plain recursive dict merge. It cannot drop
Chalice's shared DefaultRole, derive one least-privilege role, log group and pair of alarms per
function from the functions Chalice found in app.py, point @app.on_sqs_message at a queue created
in the same stack, or take the table key schemas from the code that queries them
(chalicelib/storage/dynamo_schema.py). This script does, and fails the build on anything it
cannot wire (an unknown queue, a table the settings name but nobody defines). The per-function IAM
roles are built by scripts/template_iam.py, the tables by scripts/template_tables.py.

Usage: merge_template.py --chalice build/chalice-out/sam.json --out build/template.json
                         [--bot build/lex-bot.json] [--infra infra]
"""
from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # loaded by path (tests_package) as well as run as a script
    sys.path.insert(0, str(HERE))

from template_iam import MergeError, arn, function_role, ref, role_statements, sub  # noqa: E402  (the IAM half)
import template_tables  # noqa: E402  (the table half)
from template_tables import build_service_tables, load_yaml, table_names_fields, warn  # noqa: E402

ROOT = HERE.parent
LAMBDA_FN = "AWS::Serverless::Function"


# Function alarms: errors are judged over 5 minutes (a single failed turn is logged, a burst
# pages); any throttle means customers waited or mail backed up.
ERRORS_THRESHOLD = 5
THROTTLES_THRESHOLD = 1


# ---------------------------------------------------------------------------------- tables
# `chalice package` runs with this pool ARN (scripts/package.sh) so app.py's agent routes get their
# Cognito authorizer; the merge points it at the stack's AgentUserPool.
AGENT_POOL_PLACEHOLDER = "arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_AgentPoolPlaceholder"


def replace_value(node: Any, old: str, new: Any) -> Any:
    if isinstance(node, dict):
        return {k: replace_value(v, old, new) for k, v in node.items()}
    if isinstance(node, list):
        return [replace_value(v, old, new) for v in node]
    return new if node == old else node


def build_tables(infra_dir: Path) -> dict[str, dict[str, Any]]:
    """The tables of every TableNames field (scripts/template_tables.py)."""
    return template_tables.build_tables(infra_dir, table_names_fields())


# -------------------------------------------------------------------------------- functions
def queue_name_of(event_queue: Any) -> str | None:
    """The queue name in Chalice's `arn:...:sqs:region:account:NAME` (a string or a Fn::Sub)."""
    if isinstance(event_queue, dict) and "Fn::Sub" in event_queue:
        text = event_queue["Fn::Sub"]
        text = text[0] if isinstance(text, list) else text
    elif isinstance(event_queue, str):
        text = event_queue
    else:
        return None
    return text.rsplit(":", 1)[-1]


def wire_sqs_events(fn_id: str, props: dict, config: dict, infra_resources: dict) -> list[str]:
    """Point each SQS event at the stack's queue; returns the queue logical ids consumed.

    The queue's visibility timeout is raised to 6x the function timeout (AWS's advice for Lambda
    event sources), so a message is not redelivered while a slow invocation still works on it.
    """
    aliases: dict[str, list[str]] = config.get("sqs_queues", {})
    consumed: list[str] = []
    for ev_name, event in (props.get("Events") or {}).items():
        if event.get("Type") != "SQS":
            continue
        queue = event["Properties"].get("Queue")
        name = queue_name_of(queue)
        target = next((qid for qid, names in aliases.items() if name in names), None)
        if target is None and len(aliases) == 1:
            target = next(iter(aliases))
            warn(f"{fn_id}: SQS queue '{name}' mapped to {target}; add it to sqs_queues in infra/functions.yaml")
        if target is None or target not in infra_resources:
            raise MergeError(f"{fn_id}: SQS queue '{name}' is not created by infra/; map it in infra/functions.yaml")
        ev_props = event["Properties"]
        ev_props["Queue"] = arn(target)
        queue_props = infra_resources[target]["Properties"]
        queue_props["VisibilityTimeout"] = max(queue_props.get("VisibilityTimeout", 30),
                                               6 * int(props.get("Timeout", 60)))
        ev_props.setdefault("BatchSize", 10)
        # Cap concurrency at the event source, not with reserved concurrency: reserving would
        # take capacity away from lex_hook and fails outright in accounts with a low quota.
        limit = (config.get("consumers", {}).get(target) or {}).get("max_concurrency", "EmailConsumerMaxConcurrency")
        ev_props["ScalingConfig"] = {"MaximumConcurrency": ref(limit)}
        # Retry only the failed records of a batch (the consumers return batchItemFailures when
        # DA_EMAIL_PARTIAL_BATCH_RESPONSE / DA_ESCALATION_PARTIAL_BATCH_RESPONSE are true, set below).
        ev_props["FunctionResponseTypes"] = ["ReportBatchItemFailures"]
        consumed.append(target)
    return consumed


# A card event older than this is retried no more (it goes to the on-failure queue); the consumer
# is alarmed long before: iterator age above ITERATOR_AGE_ALARM_MS means customers hear late.
KINESIS_MAX_RECORD_AGE_S = 6 * 3600
KINESIS_MAX_RETRIES = 10
ITERATOR_AGE_ALARM_MS = 60_000


def wire_kinesis_events(fn_id: str, props: dict, config: dict, infra_resources: dict) -> list[tuple[str, str]]:
    """Point each Kinesis event at the stack's stream; returns (stream id, failure queue id) pairs.

    Poison records are quarantined by the consumer itself; what reaches the mapping's retry logic is
    a failure that may pass (throttling, a timeout). Bisecting on error isolates it without
    re-running its whole batch, and after the retries the batch's coordinates go to the queue.
    """
    streams: dict[str, dict] = config.get("kinesis_streams", {})
    consumed: list[tuple[str, str]] = []
    for event in (props.get("Events") or {}).values():
        if event.get("Type") != "Kinesis":
            continue
        ev_props = event["Properties"]
        name = queue_name_of(ev_props.get("Stream"))
        name = name.rsplit("/", 1)[-1] if name else name
        target = next((sid for sid, spec in streams.items() if name in spec.get("names", [])), None)
        if target is None or target not in infra_resources:
            raise MergeError(f"{fn_id}: Kinesis stream '{name}' is not created by infra/; map it in infra/functions.yaml")
        failure = streams[target].get("on_failure")
        if not failure or failure not in infra_resources:
            raise MergeError(f"{fn_id}: stream {target} needs an on_failure queue created by infra/")
        ev_props["Stream"] = arn(target)
        ev_props["FunctionResponseTypes"] = ["ReportBatchItemFailures"]
        ev_props["BisectBatchOnFunctionError"] = True
        ev_props["MaximumRetryAttempts"] = KINESIS_MAX_RETRIES
        ev_props["MaximumRecordAgeInSeconds"] = KINESIS_MAX_RECORD_AGE_S
        ev_props["DestinationConfig"] = {"OnFailure": {"Type": "SQS", "Destination": arn(failure)}}
        consumed.append((target, failure))
    return consumed


def environment(tables: dict, profile: dict, config: dict, consumed: list[str]) -> dict[str, Any]:
    env: dict[str, Any] = {
        "DA_BACKEND": "dynamodb",
        "DA_REGION": ref("AWS::Region"),
        "DA_IDENTITY_KEY_SECRET_ID": ref("IdentityKeySecret"),
        "DA_RAW_MAIL_BUCKET": ref("RawMailBucket"),
        "DA_EMAIL_QUEUE_URL": ref("EmailQueue"),
        "DA_ESCALATION_TOPIC_ARN": ref("EscalationTopic"),
        # Tickets (chalicelib/tickets): the table, the per-queue topics, customer email through SES,
        # SMS through SNS (DA_NOTIFIER=sns: never the local outbox in Lambda), the agents' pool.
        "DA_TICKETS_TABLE": ref("TicketsTable"),
        "DA_TRANSCRIPTS_TABLE": ref("TranscriptsTable"),  # chat turns for the agent (chalicelib/transcripts)
        "DA_TICKET_TOPIC_ARN_PREFIX": sub(
            "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:${AWS::StackName}-tickets"),
        "DA_EMAIL_SENDER": ref("SesSenderAddress"),
        "DA_NOTIFIER": "sns",
        "DA_AGENT_USER_POOL_ARN": arn("AgentUserPool"),
        "DA_CONTROLS_SOURCE": "ssm",
        "DA_CONTROLS_SSM_PREFIX": config.get("ssm_controls_prefix", "/dispute-assistant/controls/"),
        "DA_COMPREHEND_ENABLED": "true" if profile.get("comprehend") else "false",
        "POWERTOOLS_SERVICE_NAME": "dispute-assistant",
        "POWERTOOLS_METRICS_NAMESPACE": "DisputeAssistant",
    }
    if consumed:
        env["DA_EMAIL_PARTIAL_BATCH_RESPONSE"] = "true"
        env["DA_ESCALATION_PARTIAL_BATCH_RESPONSE"] = "true"
    if "EscalationQueue" in (profile.get("send_queues") or []):
        # Only a function that may send gets the URL; the others open a ticket in line if they must.
        env["DA_ESCALATION_QUEUE_URL"] = ref("EscalationQueue")
    for agg, entry in tables.items():
        env[f"DA_TABLE_{agg.upper()}"] = ref(entry["id"])
    return env


def alarm(fn_id: str, metric: str, threshold: int, description: str) -> dict:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": description,
            "Namespace": "AWS/Lambda",
            "MetricName": metric,
            "Dimensions": [{"Name": "FunctionName", "Value": ref(fn_id)}],
            "Statistic": "Sum",
            "Period": 300,
            "EvaluationPeriods": 1,
            "Threshold": threshold,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [ref("AlarmTopic")],
            "OKActions": [ref("AlarmTopic")],
        },
    }


def iterator_age_alarm(fn_id: str) -> dict:
    """A stream consumer falling behind: its oldest unprocessed record is over a minute old."""
    props = alarm(fn_id, "IteratorAge", ITERATOR_AGE_ALARM_MS,
                  f"{fn_id}: card events waiting more than {ITERATOR_AGE_ALARM_MS // 1000} s (consumer behind or stuck)")
    props["Properties"].update(Statistic="Maximum", Period=60, EvaluationPeriods=5, DatapointsToAlarm=3,
                               ComparisonOperator="GreaterThanThreshold")
    return props


def wire_functions(template: dict, tables: dict, config: dict, infra_resources: dict,
                   service_tables: dict | None = None) -> list[str]:
    """Give every function its role, log group, environment and alarms; returns unprofiled ids."""
    resources = template["Resources"]
    unprofiled: list[str] = []
    profiles = config.get("functions", {})
    consumers = config.get("consumers", {})
    for fn_id in [k for k, v in resources.items() if v.get("Type") == LAMBDA_FN]:
        props = resources[fn_id]["Properties"]
        consumed = wire_sqs_events(fn_id, props, config, infra_resources)
        streams = wire_kinesis_events(fn_id, props, config, infra_resources)
        profile = profiles.get(fn_id)
        if profile is None:
            profile = next((consumers[q] for q in consumed if q in consumers), None)
        if profile is None:
            unprofiled.append(fn_id)
            warn(f"function {fn_id} has no profile in infra/functions.yaml: it gets a logs-only role")
            profile = {}
        role_id, log_id = f"{fn_id}Role", f"{fn_id}LogGroup"
        resources[log_id] = {
            "Type": "AWS::Logs::LogGroup",
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": {
                "RetentionInDays": ref("LogRetentionDays"),
                "KmsKeyId": arn("DataKey"),
            },
        }
        resources[role_id] = function_role(fn_id, profile, role_statements(
            fn_id, log_id, profile, {**tables, **(service_tables or {})}, config, consumed, streams))
        props["Role"] = arn(role_id)
        props["LoggingConfig"] = {"LogGroup": ref(log_id)}
        variables = props.setdefault("Environment", {}).setdefault("Variables", {})
        for key, value in environment(tables, profile, config, consumed).items():
            if key in variables and key == "DA_BACKEND":
                continue  # the stage's choice in .chalice/config.json wins
            variables[key] = value
        resources[f"{fn_id}ErrorsAlarm"] = alarm(
            fn_id, "Errors", ERRORS_THRESHOLD, f"{fn_id}: {ERRORS_THRESHOLD}+ invocation errors in 5 minutes")
        resources[f"{fn_id}ThrottlesAlarm"] = alarm(
            fn_id, "Throttles", THROTTLES_THRESHOLD, f"{fn_id}: invocations throttled")
        if streams:
            resources[f"{fn_id}IteratorAgeAlarm"] = iterator_age_alarm(fn_id)
        template["Outputs"][f"{fn_id}Arn"] = {"Description": f"{fn_id} function ARN", "Value": arn(fn_id)}
    # Chalice's shared role is replaced by the per-function ones.
    if "DefaultRole" in resources and "DefaultRole" not in json.dumps(
            {k: v for k, v in resources.items() if k != "DefaultRole"}):
        del resources["DefaultRole"]
    return unprofiled


# -------------------------------------------------------------------------------------- bot
def replace_refs(node: Any, name: str, replacement: Any) -> Any:
    if isinstance(node, dict):
        if node == {"Ref": name}:
            return copy.deepcopy(replacement)
        return {k: replace_refs(v, name, replacement) for k, v in node.items()}
    if isinstance(node, list):
        return [replace_refs(v, name, replacement) for v in node]
    return node


def merge_bot(template: dict, bot: dict) -> None:
    resources = template["Resources"]
    if "LexHook" not in resources:
        raise MergeError("the Lex bot needs the lex_hook function, and Chalice's template has none")
    hook_arn = arn("LexHook")
    bot_resources = replace_refs(bot.get("Resources", {}), "LexHookArn", hook_arn)
    for value in bot_resources.values():
        if value.get("Type") == "AWS::Lex::Bot":
            # Bot names are unique per account and region, like the tables: scope it to the stack
            # so staging and production stacks can live side by side.
            value["Properties"]["Name"] = sub("${AWS::StackName}-" + value["Properties"]["Name"])
    for key, value in bot_resources.items():
        if key in resources:
            raise MergeError(f"Lex bot resource {key} clashes with a resource of the same name")
        resources[key] = value
    for key, value in replace_refs(bot.get("Outputs", {}), "LexHookArn", hook_arn).items():
        template["Outputs"][key] = value
    has_permission = any(
        r.get("Type") == "AWS::Lambda::Permission"
        and r["Properties"].get("Principal") == "lexv2.amazonaws.com"
        and "BotAlias" in json.dumps(r["Properties"].get("SourceArn"))
        for r in bot_resources.values()
    )
    alias_id = next((k for k, r in bot_resources.items() if r.get("Type") == "AWS::Lex::BotAlias"), None)
    if not has_permission and alias_id is not None:
        resources["LexHookInvokePermission"] = {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "Action": "lambda:InvokeFunction",
                "FunctionName": hook_arn,
                "Principal": "lexv2.amazonaws.com",
                "SourceArn": arn(alias_id),
            },
        }


# ------------------------------------------------------------------------------------- main
def merge(chalice_template: dict, infra_dir: Path, bot: dict | None) -> tuple[dict, list[str]]:
    template = copy.deepcopy(chalice_template)
    infra = load_yaml(infra_dir / "resources.yaml")
    config = load_yaml(infra_dir / "functions.yaml") or {}
    template.setdefault("Outputs", {})
    if infra.get("Description"):
        template["Description"] = infra["Description"]
    for section in ("Parameters", "Conditions"):
        if infra.get(section):
            template.setdefault(section, {}).update(infra[section])
    for key, value in infra["Resources"].items():
        if key in template["Resources"]:
            raise MergeError(f"infra resource {key} clashes with a Chalice resource")
        template["Resources"][key] = value
    template["Outputs"].update(infra.get("Outputs", {}))

    tables = build_tables(infra_dir)
    for entry in tables.values():
        template["Resources"][entry["id"]] = entry["resource"]
        template["Outputs"][entry["id"] + "Name"] = {"Value": ref(entry["id"])}

    service_tables = build_service_tables()
    for entry in service_tables.values():
        template["Resources"][entry["id"]] = entry["resource"]
        template["Outputs"][entry["id"] + "Name"] = {"Value": ref(entry["id"])}
    unprofiled = wire_functions(template, tables, config, infra["Resources"], service_tables)
    template["Resources"] = replace_value(template["Resources"], AGENT_POOL_PLACEHOLDER, arn("AgentUserPool"))
    if bot is not None:
        merge_bot(template, bot)
    # Keep the same top-level order as hand-written templates for readability.
    order = ["AWSTemplateFormatVersion", "Transform", "Description", "Parameters", "Conditions",
             "Resources", "Outputs"]
    ordered = {k: template[k] for k in order if k in template}
    ordered.update({k: v for k, v in template.items() if k not in ordered})
    ordered.setdefault("Metadata", {})["DisputeAssistant"] = {
        "UnprofiledFunctions": unprofiled,
        "BotMerged": bot is not None,
        "Tables": {agg: entry["id"] for agg, entry in tables.items()},
        "ServiceTables": {name: entry["id"] for name, entry in service_tables.items()},
    }
    return ordered, unprofiled


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chalice", required=True, help="sam.json written by chalice package")
    parser.add_argument("--out", required=True)
    parser.add_argument("--infra", default=str(ROOT / "infra"))
    parser.add_argument("--bot", help="CloudFormation of the Lex bot (python -m chatbot build-bot)")
    args = parser.parse_args(argv)
    with open(args.chalice) as fh:
        chalice_template = json.load(fh)
    bot = None
    if args.bot and Path(args.bot).exists():
        with open(args.bot) as fh:
            bot = json.load(fh)
    else:
        warn("no Lex bot template (chatbot/bot_builder.py missing?): the stack has no bot")
    try:
        template, _ = merge(chalice_template, Path(args.infra), bot)
    except MergeError as exc:
        print(f"merge_template: ERROR: {exc}", file=sys.stderr)
        return 1
    with open(args.out, "w") as fh:
        json.dump(template, fh, indent=2)
        fh.write("\n")
    n_res = len(template["Resources"])
    print(f"merged template: {args.out} ({n_res} resources)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
