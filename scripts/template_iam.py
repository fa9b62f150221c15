"""The IAM half of scripts/merge_template.py: one least-privilege role per Lambda function.

Each function's profile in infra/functions.yaml (tables by access level, queues and streams it
consumes, topics, SMS, SES, buckets, Comprehend, SSM switches) becomes the statements of its own
role, so a bug or an injection in one entry point cannot reach what only another one needs.
Split out of merge_template.py (which wires the rest of the stack) with its output unchanged: the
merged template is byte-identical before and after the split.

The CloudFormation intrinsics (``sub``, ``ref``, ``arn``) and the build's error live here because
both halves use them and this half imports nothing of the other.
"""
from __future__ import annotations

from typing import Any

TABLE_ACTIONS = {
    "read": ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem"],
}
TABLE_ACTIONS["append"] = TABLE_ACTIONS["read"] + ["dynamodb:PutItem"]
TABLE_ACTIONS["write"] = TABLE_ACTIONS["append"] + [
    "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
]
QUEUE_CONSUMER_ACTIONS = [
    "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility",
]
KINESIS_CONSUMER_ACTIONS = [
    "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary", "kinesis:ListShards",
]


class MergeError(Exception):
    """The template cannot be built; the message says what to fix and where."""


def sub(text: str) -> dict:
    return {"Fn::Sub": text}


def ref(name: str) -> dict:
    return {"Ref": name}


def arn(name: str) -> dict:
    return {"Fn::GetAtt": [name, "Arn"]}


def role_statements(fn_id: str, log_group_id: str, profile: dict, tables: dict, config: dict,
                    consumed: list[str], streams: list[tuple[str, str]] = ()) -> list[dict]:
    statements: list[dict] = [
        {
            "Sid": "OwnLogGroup",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": arn(log_group_id),
        },
        {
            "Sid": "DataKey",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": arn("DataKey"),
        },
    ]
    for level in ("read", "append", "write"):
        aggs = (profile.get("tables") or {}).get(level) or []
        if not aggs:
            continue
        resources = []
        for agg in aggs:
            if agg not in tables:
                raise MergeError(f"{fn_id}: unknown table '{agg}' in infra/functions.yaml")
            tid = tables[agg]["id"]
            resources += [arn(tid), sub("${" + tid + ".Arn}/index/*")]
        statements.append({
            "Sid": f"Tables{level.capitalize()}", "Effect": "Allow",
            "Action": TABLE_ACTIONS[level], "Resource": resources,
        })
    for qid in consumed:
        statements.append({
            "Sid": f"Consume{qid}", "Effect": "Allow", "Action": QUEUE_CONSUMER_ACTIONS, "Resource": arn(qid),
        })
    for qid in profile.get("send_queues") or []:
        if qid not in config.get("sqs_queues", {}):
            raise MergeError(f"{fn_id}: send_queues names {qid}, which is not a queue of sqs_queues in infra/functions.yaml")
        statements.append({"Sid": f"SendTo{qid}", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": arn(qid)})
    for sid, failure in streams:
        statements.append({
            "Sid": f"Consume{sid}", "Effect": "Allow", "Action": KINESIS_CONSUMER_ACTIONS, "Resource": arn(sid),
        })
        statements.append({
            "Sid": f"ReportTo{failure}", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": arn(failure),
        })
    if profile.get("secrets"):
        statements.append({
            "Sid": "Secrets", "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            "Resource": [ref(s) for s in profile["secrets"]],
        })
    if profile.get("publish"):
        statements.append({
            "Sid": "PublishTopics", "Effect": "Allow", "Action": "sns:Publish",
            "Resource": [ref(t) for t in profile["publish"]],
        })
    if profile.get("sms"):
        # SMS to a phone number has no resource ARN: IAM can grant it only on "*".
        statements.append({"Sid": "SendSms", "Effect": "Allow", "Action": "sns:Publish", "Resource": "*"})
    if profile.get("ses_send"):
        # Customer email: only as the stack's SES identity, only from its sender address.
        statements.append({
            "Sid": "SendCustomerEmail", "Effect": "Allow", "Action": ["ses:SendEmail"],
            "Resource": sub("arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${SesIdentity}"),
            "Condition": {"StringEquals": {"ses:FromAddress": ref("SesSenderAddress")}},
        })
    if profile.get("read_buckets"):
        statements.append({
            "Sid": "ReadRawMail", "Effect": "Allow", "Action": "s3:GetObject",
            "Resource": [sub("${" + b + ".Arn}/inbound/*") for b in profile["read_buckets"]],
        })
    if profile.get("comprehend"):
        # Comprehend's real-time detect APIs have no resource-level permissions.
        statements.append({
            "Sid": "Comprehend", "Effect": "Allow",
            "Action": [f"comprehend:{a}" for a in profile["comprehend"]], "Resource": "*",
        })
    if "decisions" in ((profile.get("tables") or {}).get("append") or []):
        # Every decision writer advances the log's head anchor kept outside the store (issue 14);
        # `audit verify` reads it. Derived from the append grant so the two cannot drift apart.
        head = config.get("decision_head_parameter", "/da/decision-log/head")
        statements.append({
            "Sid": "DecisionLogHeadAnchor", "Effect": "Allow", "Action": ["ssm:GetParameter", "ssm:PutParameter"],
            "Resource": sub("arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter" + head),
        })
    if any("rollout" in ((profile.get("tables") or {}).get(level) or []) for level in ("append", "write")):
        # A function that feeds the rollout's guards may roll a capability back on its own: it writes
        # the stage parameter (chalicelib/governance/rollout_store.py SsmStageStore), and only that.
        # Derived from the table grant so the two cannot drift apart.
        prefix = config.get("ssm_controls_prefix", "/dispute-assistant/controls/").rstrip("/")
        statements.append({
            "Sid": "RolloutStages", "Effect": "Allow", "Action": ["ssm:PutParameter"],
            "Resource": sub("arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter"
                            + prefix + "/rollout/*"),
        })
    if profile.get("ssm_controls"):
        prefix = config.get("ssm_controls_prefix", "/dispute-assistant/controls/").rstrip("/")
        statements.append({
            "Sid": "ControlSwitches", "Effect": "Allow",
            "Action": ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
            "Resource": [
                sub("arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter" + prefix),
                sub("arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter" + prefix + "/*"),
            ],
        })
    return statements


def function_role(fn_id: str, profile: dict, statements: list[dict]) -> dict[str, Any]:
    """The function's own role: assumed by Lambda only, with one inline policy of ``statements``."""
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Description": (profile.get("description") or f"{fn_id} (no profile)")[:1000],
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }],
            },
            "Policies": [{
                "PolicyName": f"{fn_id}Access",
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": statements,
                },
            }],
        },
    }
