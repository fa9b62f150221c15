"""The merged CloudFormation template: lint-clean, complete, least-privilege, encrypted, observable."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests_package.conftest import BUILD, ROOT

# Actions IAM cannot scope to a resource, each with the reason it is allowed on "*".
UNSCOPABLE_ACTIONS = {
    "comprehend:DetectSentiment", "comprehend:DetectDominantLanguage", "comprehend:DetectEntities",
    "comprehend:DetectPiiEntities", "comprehend:DetectKeyPhrases", "comprehend:DetectSyntax",
    "comprehend:ClassifyDocument",
    "sns:Publish",  # SMS to a phone number has no resource ARN
    "polly:SynthesizeSpeech",  # the Lex bot's runtime role (voice channels)
}


def cfn_lint(path: Path) -> list[dict]:
    exe = Path(sys.executable).parent / "cfn-lint"
    command = [str(exe)] if exe.exists() else [shutil.which("cfn-lint") or "cfn-lint"]
    proc = subprocess.run(
        command + ["--format", "json", str(path)],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert proc.returncode in (0, 2, 4, 6, 8, 10, 12, 14), proc.stderr[-2000:]
    return json.loads(proc.stdout or "[]")


def _statements(role: dict) -> list[dict]:
    out = []
    for policy in role["Properties"].get("Policies", []):
        out += policy["PolicyDocument"]["Statement"]
    return out


def _as_list(value):
    return value if isinstance(value, list) else [value]


def test_cfn_lint_reports_no_error_on_the_packaged_template():
    """Given the template `make package` merged, when cfn-lint (with the SAM transform) checks it,
    then it reports no error."""
    path = BUILD / "template.json"
    assert path.exists(), "run `make package` first"
    errors = [m for m in cfn_lint(path) if m["Level"] == "Error"]
    assert errors == [], json.dumps(errors, indent=1)[:4000]


def test_cfn_lint_reports_no_error_on_the_lex_bot_template():
    """Given build/lex-bot.json from `python -m chatbot build-bot`, when cfn-lint checks it, then
    it reports no error."""
    if not (ROOT / "chatbot" / "bot_builder.py").exists():
        pytest.skip("chatbot/bot_builder.py has not landed: the package has no bot yet")
    path = BUILD / "lex-bot.json"
    assert path.exists(), "make package did not write build/lex-bot.json"
    errors = [m for m in cfn_lint(path) if m["Level"] == "Error"]
    assert errors == [], json.dumps(errors, indent=1)[:4000]


def test_every_function_runs_python312_from_the_slimmed_zip(functions):
    """Given the template, when reading each function, then it runs python3.12 from
    ./deployment.zip (the slimmed package beside the template), within Lex's 30 s for lex_hook."""
    assert "LexHook" in functions
    for fn_id, fn in functions.items():
        props = fn["Properties"]
        assert props["Runtime"] == "python3.12", fn_id
        assert props["CodeUri"] == "./deployment.zip", fn_id
        assert (BUILD / props["CodeUri"]).exists()
    assert functions["LexHook"]["Properties"]["Timeout"] <= 25


def test_each_function_has_its_own_role_and_no_wildcard_access(template, resources, functions):
    """Given the template, when reading the functions' roles, then each function has a role of its
    own made from an infra/functions.yaml profile, Chalice's shared DefaultRole is gone, and no
    statement grants a wildcard action or a "*" resource except for actions IAM cannot scope."""
    assert "DefaultRole" not in resources
    assert template["Metadata"]["DisputeAssistant"]["UnprofiledFunctions"] == [], (
        "add a profile for these functions to infra/functions.yaml")
    role_ids = [fn["Properties"]["Role"]["Fn::GetAtt"][0] for fn in functions.values()]
    assert len(set(role_ids)) == len(role_ids), "functions share a role"
    for role_id in role_ids:
        for st in _statements(resources[role_id]):
            actions = _as_list(st["Action"])
            assert not any(a == "*" or a.endswith(":*") for a in actions), (role_id, st)
            if "*" in _as_list(st.get("Resource", [])):
                assert set(actions) <= UNSCOPABLE_ACTIONS, (role_id, st)


def test_the_decision_log_is_append_only_for_every_function(template, resources, functions):
    """Given the tamper-evident decision log table, when reading every function's role, then no
    function may update or delete a decision (appends only)."""
    table_id = template["Metadata"]["DisputeAssistant"]["Tables"]["decisions"]
    for fn in functions.values():
        role = resources[fn["Properties"]["Role"]["Fn::GetAtt"][0]]
        for st in _statements(role):
            if f'"{table_id}"' in json.dumps(st.get("Resource")):
                assert not {"dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"} & set(
                    _as_list(st["Action"])), st


def test_every_function_has_error_and_throttle_alarms_and_a_retained_encrypted_log_group(
        resources, functions):
    """Given the template, when looking for each function's observability, then it logs into its
    own log group with a retention and the data key, and alarms on Errors and Throttles."""
    alarms = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    for fn_id, fn in functions.items():
        log_id = fn["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        group = resources[log_id]["Properties"]
        assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        assert "KmsKeyId" in group
        for metric in ("Errors", "Throttles"):
            assert any(
                a["Namespace"] == "AWS/Lambda" and a["MetricName"] == metric
                and a["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": fn_id}}]
                and a.get("AlarmActions") for a in alarms
            ), f"{fn_id} has no {metric} alarm"


def test_tables_cover_every_table_the_settings_name_encrypted_with_recovery(template, resources):
    """Given chalicelib.core.settings.TableNames, when reading the template, then each name has a
    pay-per-request table with point-in-time recovery and KMS encryption, and the expiring records
    (verifications, idempotency, triage, rollout observations) have TTL on."""
    from chalicelib.core.settings import TableNames

    tables = template["Metadata"]["DisputeAssistant"]["Tables"]
    assert set(tables) == set(TableNames.model_fields)
    for agg, table_id in tables.items():
        props = resources[table_id]["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert props["SSESpecification"]["SSEType"] == "KMS"
        assert resources[table_id]["DeletionPolicy"] == "Retain"
        if agg in ("verifications", "idempotency", "triage", "rollout"):
            assert props["TimeToLiveSpecification"]["Enabled"] is True, agg


def test_functions_are_pointed_at_the_stack_resources(template, functions):
    """Given the template, when reading each function's environment, then DA_BACKEND is dynamodb
    and every table, the secret, bucket, queue and topic are references to this stack."""
    tables = template["Metadata"]["DisputeAssistant"]["Tables"]
    for fn_id, fn in functions.items():
        env = fn["Properties"]["Environment"]["Variables"]
        assert env["DA_BACKEND"] == "dynamodb", fn_id
        for agg, table_id in tables.items():
            assert env[f"DA_TABLE_{agg.upper()}"] == {"Ref": table_id}
        assert env["DA_IDENTITY_KEY_SECRET_ID"] == {"Ref": "IdentityKeySecret"}
        assert env["DA_RAW_MAIL_BUCKET"] == {"Ref": "RawMailBucket"}
        assert env["DA_EMAIL_QUEUE_URL"] == {"Ref": "EmailQueue"}
        assert env["DA_ESCALATION_TOPIC_ARN"] == {"Ref": "EscalationTopic"}


def test_raw_mail_flows_from_ses_through_an_encrypted_bucket_to_a_queue_with_a_dlq(resources):
    """Given the email ingestion resources, when reading them, then SES may only put into the
    bucket's inbound/ prefix from this account, the bucket is KMS-encrypted, private and expires
    mail, notifies the queue, and the queue redrives to an alarmed dead-letter queue."""
    bucket = resources["RawMailBucket"]["Properties"]
    rule = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == {"Ref": "RawMailRetentionDays"}
    assert bucket["NotificationConfiguration"]["QueueConfigurations"][0]["Queue"] == {
        "Fn::GetAtt": ["EmailQueue", "Arn"]}
    policy = resources["RawMailBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    ses = next(s for s in policy if s.get("Principal") == {"Service": "ses.amazonaws.com"})
    assert ses["Action"] == "s3:PutObject" and "aws:SourceAccount" in ses["Condition"]["StringEquals"]
    rule_actions = resources["StoreRawMailRule"]["Properties"]["Rule"]["Actions"]
    assert rule_actions[0]["S3Action"]["BucketName"] == {"Ref": "RawMailBucket"}
    queue = resources["EmailQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["EmailDeadLetterQueue", "Arn"]}
    dlq_alarm = resources["EmailDeadLetterQueueAlarm"]["Properties"]
    assert dlq_alarm["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["EmailDeadLetterQueue", "QueueName"]}


SQS_CONSUMERS = {  # queue -> what its consumer must also be able to do
    "EmailQueue": {"sqs:ReceiveMessage", "sqs:DeleteMessage", "s3:GetObject"},
    "EscalationQueue": {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sns:Publish", "dynamodb:PutItem"},
}


def test_sqs_consumers_read_the_stack_queue_with_their_own_permissions(resources, functions):
    """Given app.py's @app.on_sqs_message consumers, when reading the template, then each consumes
    a stack queue (not a queue Chalice guessed by name) with partial batch responses, the queue
    hides a message for 6x the consumer's timeout, and the consumer's role may receive from the
    queue and do its work (read raw mail; write tickets and publish to the team topics)."""
    consumers = {
        fn_id: ev for fn_id, fn in functions.items()
        for ev in (fn["Properties"].get("Events") or {}).values() if ev["Type"] == "SQS"
    }
    if not consumers:
        pytest.skip("app.py has no @app.on_sqs_message consumer yet (issue 3)")
    assert {e["Properties"]["Queue"]["Fn::GetAtt"][0] for e in consumers.values()} == set(SQS_CONSUMERS)
    for fn_id, event in consumers.items():
        queue = event["Properties"]["Queue"]["Fn::GetAtt"][0]
        assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        env = functions[fn_id]["Properties"]["Environment"]["Variables"]
        assert env["DA_EMAIL_PARTIAL_BATCH_RESPONSE"] == "true" and env["DA_ESCALATION_PARTIAL_BATCH_RESPONSE"] == "true"
        timeout = functions[fn_id]["Properties"]["Timeout"]
        assert resources[queue]["Properties"]["VisibilityTimeout"] >= 6 * timeout
        role = resources[functions[fn_id]["Properties"]["Role"]["Fn::GetAtt"][0]]
        actions = {a for st in _statements(role) for a in _as_list(st["Action"])}
        assert SQS_CONSUMERS[queue] <= actions, fn_id


def test_the_lex_bot_alias_calls_lex_hook_with_permission(resources):
    """Given the bot merged from `python -m chatbot build-bot`, when reading the template, then the
    alias's code hook is the lex_hook function and Lex (that alias) may invoke it."""
    if not (ROOT / "chatbot" / "bot_builder.py").exists():
        pytest.skip("chatbot/bot_builder.py has not landed: the package has no bot yet")
    alias = next(r for r in resources.values() if r["Type"] == "AWS::Lex::BotAlias")
    hook = alias["Properties"]["BotAliasLocaleSettings"][0]["BotAliasLocaleSetting"]
    assert hook["CodeHookSpecification"]["LambdaCodeHook"]["LambdaArn"] == {"Fn::GetAtt": ["LexHook", "Arn"]}
    alias_id = next(k for k, r in resources.items() if r["Type"] == "AWS::Lex::BotAlias")
    permissions = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Lambda::Permission"]
    assert any(
        p["Principal"] == "lexv2.amazonaws.com" and p["FunctionName"] == {"Fn::GetAtt": ["LexHook", "Arn"]}
        and p["SourceArn"] == {"Fn::GetAtt": [alias_id, "Arn"]} for p in permissions
    )


def test_identity_key_is_a_generated_secret_encrypted_with_the_data_key(resources):
    """Given the identity-token secret, when reading it, then CloudFormation generates it (no key in
    the template or the repo) and encrypts it with the stack's KMS key."""
    secret = resources["IdentityKeySecret"]["Properties"]
    assert secret["GenerateSecretString"]["PasswordLength"] >= 32
    assert "SecretString" not in secret
    assert secret["KmsKeyId"] == {"Ref": "DataKey"}


def _allows(role: dict, action: str, table_id: str) -> bool:
    for st in _statements(role):
        if st.get("Effect") != "Allow" or action not in _as_list(st.get("Action")):
            continue
        if table_id in json.dumps(st.get("Resource")):
            return True
    return False


@pytest.mark.parametrize("fn_id,action,table_id", [
    ("LexHook", "dynamodb:UpdateItem", "FraudDecisionsTable"),   # release a hold after step-up
    ("LexHook", "dynamodb:PutItem", "PseudonymKeysTable"),       # first decision about a customer
    ("LexHook", "dynamodb:GetItem", "PseudonymKeysTable"),
])
def test_lex_hook_role_covers_paths_the_smoke_run_cannot_reach(resources, functions, fn_id, action, table_id):
    """Given the merged template, when the lex_hook role is read, then it allows what the chat does
    beyond the smoke run (releasing a hold needs a one-time code by SMS, which the smoke cannot
    receive): writing the released fraud decision and keeping the customer's pseudonym key."""
    role = resources[functions[fn_id]["Properties"]["Role"]["Fn::GetAtt"][0]]
    assert table_id in resources, f"{table_id} is missing from the template"
    assert _allows(role, action, table_id), f"{fn_id} may not {action} on {table_id}"


def test_lex_hook_cannot_delete_pseudonym_keys(resources, functions):
    """Given the merged template, when the lex_hook role is read, then it cannot delete pseudonym
    keys: erasing a customer (crypto-shredding) is an operator's action, not a chat turn's."""
    role = resources[functions["LexHook"]["Properties"]["Role"]["Fn::GetAtt"][0]]
    assert not _allows(role, "dynamodb:DeleteItem", "PseudonymKeysTable")
