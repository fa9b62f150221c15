"""scripts/merge_template.py on small hand-made Chalice templates: the wiring rules themselves, so
a template that would deploy broken (an unknown queue, a function without a role profile, a bot
not wired to lex_hook) is refused or flagged at build time."""
from __future__ import annotations

import copy
import importlib.util
import json

import pytest

from tests_package.conftest import ROOT

spec = importlib.util.spec_from_file_location("merge_template", ROOT / "scripts" / "merge_template.py")
merge_template = importlib.util.module_from_spec(spec)
spec.loader.exec_module(merge_template)

INFRA = ROOT / "infra"


def _function(handler: str, events: dict | None = None) -> dict:
    props = {"Runtime": "python3.12", "Handler": handler, "CodeUri": "./deployment.zip", "Timeout": 25,
             "MemorySize": 1024, "Environment": {"Variables": {"DA_BACKEND": "dynamodb"}},
             "Role": {"Fn::GetAtt": ["DefaultRole", "Arn"]}}
    if events:
        props["Events"] = events
    return {"Type": "AWS::Serverless::Function", "Properties": props}


def _chalice(**functions) -> dict:
    resources = {"DefaultRole": {"Type": "AWS::IAM::Role", "Properties": {}}}
    resources.update(functions)
    return {"AWSTemplateFormatVersion": "2010-09-09", "Transform": "AWS::Serverless-2016-10-31",
            "Outputs": {}, "Resources": resources}


def _sqs(queue_name: str) -> dict:
    return {"Src": {"Type": "SQS", "Properties": {
        "Queue": {"Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:" + queue_name},
        "BatchSize": 5}}}


def test_an_sqs_consumer_is_wired_to_the_stack_queue_with_its_consumer_profile():
    """Given a Chalice SQS consumer on queue "da-email", when merging, then its event reads the
    stack's EmailQueue, its role is the email-consumer profile, and the queue's visibility timeout
    is 6x the function's timeout."""
    base = _chalice(LexHook=_function("app.lex_hook"), EmailIngest=_function("app.email_ingest", _sqs("da-email")))
    base["Resources"]["EmailIngest"]["Properties"]["Timeout"] = 60
    template, unprofiled = merge_template.merge(base, INFRA, None)
    event = template["Resources"]["EmailIngest"]["Properties"]["Events"]["Src"]["Properties"]
    assert event["Queue"] == {"Fn::GetAtt": ["EmailQueue", "Arn"]}
    assert unprofiled == []
    assert template["Resources"]["EmailQueue"]["Properties"]["VisibilityTimeout"] == 360
    role = template["Resources"]["EmailIngestRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    assert any(st["Sid"] == "ConsumeEmailQueue" for st in role["Statement"])
    assert "DefaultRole" not in template["Resources"]


def test_an_unknown_queue_fails_the_build_when_it_cannot_be_mapped(tmp_path):
    """Given a consumer of a queue no infra resource stands for and two candidate queues, when
    merging, then the build fails naming the queue (instead of a stack listening to nothing)."""
    infra = tmp_path / "infra"
    infra.mkdir()
    for name in ("resources.yaml", "tables.yaml"):
        (infra / name).write_text((INFRA / name).read_text())
    config = (INFRA / "functions.yaml").read_text().replace(
        "sqs_queues:\n", "sqs_queues:\n  EmailDeadLetterQueue: [parked]\n")
    (infra / "functions.yaml").write_text(config)
    base = _chalice(LexHook=_function("app.lex_hook"), Other=_function("app.other", _sqs("mystery-queue")))
    with pytest.raises(merge_template.MergeError, match="mystery-queue"):
        merge_template.merge(base, infra, None)


def test_a_function_without_profile_gets_a_logs_only_role_and_is_reported():
    """Given a new Chalice function infra/functions.yaml has no profile for, when merging, then it
    still gets its own role (logs and the data key only) and is listed as unprofiled, which fails
    tests_package until a profile is added."""
    base = _chalice(LexHook=_function("app.lex_hook"), Newcomer=_function("app.newcomer"))
    template, unprofiled = merge_template.merge(base, INFRA, None)
    assert unprofiled == ["Newcomer"]
    statements = template["Resources"]["NewcomerRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert {st["Sid"] for st in statements} == {"OwnLogGroup", "DataKey"}


def test_the_bot_code_hook_parameter_becomes_the_lex_hook_arn():
    """Given a bot template taking the hook as parameter LexHookArn, when merging, then every use
    of that parameter is the lex_hook function's ARN, the parameter is gone, the bot's name is
    scoped to the stack, and Lex's alias may invoke the hook."""
    bot = {
        "Parameters": {"LexHookArn": {"Type": "String"}},
        "Resources": {
            "Bot": {"Type": "AWS::Lex::Bot", "Properties": {"Name": "B"}},
            "BotAlias": {"Type": "AWS::Lex::BotAlias", "Properties": {
                "BotId": {"Ref": "Bot"},
                "BotAliasLocaleSettings": [{"LocaleId": "en_US", "BotAliasLocaleSetting": {
                    "Enabled": True, "CodeHookSpecification": {"LambdaCodeHook": {
                        "LambdaArn": {"Ref": "LexHookArn"}, "CodeHookInterfaceVersion": "1.0"}}}}]}},
        },
    }
    template, _ = merge_template.merge(_chalice(LexHook=_function("app.lex_hook")), INFRA, copy.deepcopy(bot))
    text = json.dumps(template)
    assert '{"Ref": "LexHookArn"}' not in text
    assert "LexHookArn" not in template.get("Parameters", {})
    hook = template["Resources"]["BotAlias"]["Properties"]["BotAliasLocaleSettings"][0]
    code_hook = hook["BotAliasLocaleSetting"]["CodeHookSpecification"]["LambdaCodeHook"]
    assert code_hook["LambdaArn"] == {"Fn::GetAtt": ["LexHook", "Arn"]}
    assert template["Resources"]["Bot"]["Properties"]["Name"] == {"Fn::Sub": "${AWS::StackName}-B"}
    permission = template["Resources"]["LexHookInvokePermission"]["Properties"]
    assert permission["Principal"] == "lexv2.amazonaws.com"
    assert permission["SourceArn"] == {"Fn::GetAtt": ["BotAlias", "Arn"]}


def test_a_table_named_in_settings_but_defined_nowhere_fails_the_build(tmp_path, monkeypatch):
    """Given a TableNames field neither dynamo_schema.py nor infra/tables.yaml defines, when
    merging, then the build fails naming it (the function would otherwise point at no table)."""
    fields = merge_template.table_names_fields() + ["ledger_entries"]
    monkeypatch.setattr(merge_template, "table_names_fields", lambda: fields)
    with pytest.raises(merge_template.MergeError, match="ledger_entries"):
        merge_template.build_tables(INFRA)


def _kinesis(stream_name: str) -> dict:
    return {"Src": {"Type": "Kinesis", "Properties": {
        "Stream": {"Fn::Sub": "arn:${AWS::Partition}:kinesis:${AWS::Region}:${AWS::AccountId}:stream/" + stream_name},
        "StartingPosition": "LATEST", "BatchSize": 100}}}


def test_every_function_that_feeds_the_rollout_shares_its_table_and_may_roll_a_capability_back():
    """Given the chat hook, the API, the card stream and the email consumer (each feeds rollout guards),
    when merging, then the stack has the shared rollout table (KMS, recovery, TTL on the observations),
    each function may read and append to it (no update or delete) and put parameters under
    <controls>/rollout/ only (an automatic rollback writes the stage), never the kill switches."""
    base = _chalice(LexHook=_function("app.lex_hook"), APIHandler=_function("app.app"),
                    CardEvents=_function("app.card_events", _kinesis("da-card-events")),
                    EmailIngest=_function("app.email_ingest", _sqs("da-email")))
    template, _ = merge_template.merge(base, INFRA, None)
    res = template["Resources"]
    table_id = template["Metadata"]["DisputeAssistant"]["Tables"]["rollout"]
    props = res[table_id]["Properties"]
    assert [k["AttributeName"] for k in props["KeySchema"]] == ["pk", "sk"]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert props["SSESpecification"]["SSEType"] == "KMS"
    for fn in ("LexHook", "APIHandler", "CardEvents", "EmailIngest"):
        statements = res[f"{fn}Role"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        table_arn = {"Fn::GetAtt": [table_id, "Arn"]}
        grants = [s for s in statements if isinstance(s["Resource"], list) and table_arn in s["Resource"]]
        assert [s["Sid"] for s in grants] == ["TablesAppend"], fn
        assert "dynamodb:UpdateItem" not in grants[0]["Action"] and "dynamodb:PutItem" in grants[0]["Action"]
        puts = [s for s in statements if "ssm:PutParameter" in s["Action"] and s["Sid"] != "DecisionLogHeadAnchor"]
        assert [s["Resource"]["Fn::Sub"].rsplit(":parameter", 1)[1] for s in puts] == [
            "/dispute-assistant/controls/rollout/*"], fn
        env = res[fn]["Properties"]["Environment"]["Variables"]
        assert env["DA_TABLE_ROLLOUT"] == {"Ref": table_id}
