"""The Lex bot definition generated from intent specs: lint-clean and faithful to the specs."""
from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import pytest
from cfnlint.api import ManualArgs, lint

from chatbot import __main__ as cli
from chatbot.bot_builder import BotBuildError, build_bot_template
from intents.spec import IntentSpec, SlotSpec, SlotTypeSpec, SlotTypeValue

REPO_ROOT = Path(__file__).resolve().parents[2]

REASON = SlotTypeSpec(
    name="DisputeReason",
    description="Card-network reason families",
    values=[
        SlotTypeValue(value="unauthorised", synonyms=["I didn't make it", "fraud"]),
        SlotTypeValue(value="duplicate", synonyms=["charged twice"]),
        SlotTypeValue(value="not_received"),
    ],
)
YES_NO = SlotTypeSpec(name="YesNo", values=[SlotTypeValue(value="yes"), SlotTypeValue(value="no")],
                      resolution="TOP_RESOLUTION")


def fixture_specs() -> list[IntentSpec]:
    """A small stand-in for intents.registry.all_specs() with every feature the builder maps."""
    return [
        IntentSpec(
            name="FileDispute",
            description="File a dispute for a card transaction",
            sample_utterances=["I want to dispute a charge", "dispute {Amount}", "I don't recognise this charge",
                               "I was charged twice"],
            slots=[
                SlotSpec(name="Amount", slot_type="AMAZON.Number", prompt="How much was the charge?",
                         sample_utterances=["it was {Amount}", "{Amount} dollars"]),
                SlotSpec(name="Reason", slot_type="DisputeReason", prompt="Why are you disputing it?"),
                SlotSpec(name="MerchantContacted", slot_type="YesNo", prompt="Did you contact the merchant?",
                         required=False),
            ],
            slot_types=[REASON, YES_NO],
            confirmation_prompt="Shall I file a dispute for {Amount}?",
            declination_response="Okay, I have not filed anything.",
        ),
        IntentSpec(
            name="DisputeStatus",
            description="Status of my disputes",
            sample_utterances=["where is my dispute", "status of case {CaseId}"],
            slots=[SlotSpec(name="CaseId", slot_type="AMAZON.AlphaNumeric", prompt="Which case?", required=False)],
            slot_types=[YES_NO],  # the same type declared by two intents is defined once
        ),
        IntentSpec(name="TalkToAgent", description="Human handover",
                   sample_utterances=["talk to a human", "agent please"], dialog_code_hook=False),
        IntentSpec(name="FallbackIntent", description="Anything else", sample_utterances=["blah blah"]),
    ]


@pytest.fixture(scope="module")
def template() -> dict:
    return build_bot_template(fixture_specs())


def resources_of(template: dict, kind: str) -> dict:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def locale_of(template: dict) -> dict:
    (bot,) = resources_of(template, "AWS::Lex::Bot").values()
    return bot["Properties"]["BotLocales"][0]


def intents_of(template: dict) -> dict:
    return {i["Name"]: i for i in locale_of(template)["Intents"]}


def test_template_is_cfn_lint_clean(template):
    """Given the template for the fixture specs, When cfn-lint 1.x checks it, Then it reports
    nothing (no errors, and no warnings either)."""
    matches = lint(json.dumps(template), config=ManualArgs(regions=["us-east-1"]))
    assert [str(m) for m in matches] == []


def test_cfn_lint_catches_a_broken_template(template):
    """Given the template with a misspelt property, When linted, Then cfn-lint reports an error
    (so the clean result above is meaningful)."""
    broken = json.loads(json.dumps(template))
    locale_of(broken)["Intents"][0]["SampleUtterance"] = []
    matches = lint(json.dumps(broken), config=ManualArgs(regions=["us-east-1"]))
    assert any(m.rule.id.startswith("E") for m in matches)


def test_bot_resource_settings(template):
    """Given the template, Then the bot has the role, privacy, TTL, locale threshold and voice."""
    (bot,) = resources_of(template, "AWS::Lex::Bot").values()
    props = bot["Properties"]
    assert template["AWSTemplateFormatVersion"] == "2010-09-09"
    assert props["Name"] == "DisputeAssistant"
    assert props["DataPrivacy"] == {"ChildDirected": False}
    assert 60 <= props["IdleSessionTTLInSeconds"] <= 86400
    assert props["RoleArn"] == {"Fn::GetAtt": ["BotRuntimeRole", "Arn"]}
    locale = props["BotLocales"][0]
    assert locale["LocaleId"] == "en_US"
    assert 0 < locale["NluConfidenceThreshold"] < 1
    role = template["Resources"]["BotRuntimeRole"]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "lexv2.amazonaws.com"}
    assert role["Policies"][0]["PolicyDocument"]["Statement"][0]["Action"] == "polly:SynthesizeSpeech"


def test_every_intent_slot_and_utterance_is_present(template):
    """Given the fixture specs, Then each intent carries all its utterances, slots in priority order,
    prompts, constraints and code hooks."""
    intents = intents_of(template)
    for spec in fixture_specs():
        if spec.name == "FallbackIntent":
            continue
        got = intents[spec.name]
        assert [u["Utterance"] for u in got["SampleUtterances"]] == spec.sample_utterances
        assert got["DialogCodeHook"] == {"Enabled": spec.dialog_code_hook}
        assert got["FulfillmentCodeHook"] == {"Enabled": spec.fulfillment_code_hook}
        assert [s["Name"] for s in got.get("Slots", [])] == [s.name for s in spec.slots]
        assert [p["SlotName"] for p in got.get("SlotPriorities", [])] == [s.name for s in spec.slots]
        assert [p["Priority"] for p in got.get("SlotPriorities", [])] == list(range(1, len(spec.slots) + 1))
        for slot_spec, slot in zip(spec.slots, got.get("Slots", [])):
            setting = slot["ValueElicitationSetting"]
            assert slot["SlotTypeName"] == slot_spec.slot_type
            assert setting["SlotConstraint"] == ("Required" if slot_spec.required else "Optional")
            prompt = setting["PromptSpecification"]
            assert prompt["MessageGroupsList"][0]["Message"]["PlainTextMessage"]["Value"] == slot_spec.prompt
            assert prompt["MaxRetries"] >= 1
            assert [u["Utterance"] for u in setting.get("SampleUtterances", [])] == slot_spec.sample_utterances


def test_confirmation_only_where_specified(template):
    """Given FileDispute with a confirmation prompt, Then it has IntentConfirmationSetting with the
    prompt and declination; intents without one have none."""
    intents = intents_of(template)
    conf = intents["FileDispute"]["IntentConfirmationSetting"]
    assert conf["PromptSpecification"]["MessageGroupsList"][0]["Message"]["PlainTextMessage"]["Value"] == \
        "Shall I file a dispute for {Amount}?"
    assert conf["DeclinationResponse"]["MessageGroupsList"][0]["Message"]["PlainTextMessage"]["Value"] == \
        "Okay, I have not filed anything."
    assert "IntentConfirmationSetting" not in intents["DisputeStatus"]


def test_slot_type_references_resolve(template):
    """Given the template, Then every slot's type is built in or defined once in SlotTypes, with
    its values, synonyms and resolution strategy."""
    locale = locale_of(template)
    defined = {t["Name"]: t for t in locale["SlotTypes"]}
    assert sorted(defined) == ["DisputeReason", "YesNo"]
    for intent in locale["Intents"]:
        for slot in intent.get("Slots", []):
            assert slot["SlotTypeName"].startswith("AMAZON.") or slot["SlotTypeName"] in defined
    reason = defined["DisputeReason"]
    assert reason["ValueSelectionSetting"] == {"ResolutionStrategy": "TOP_RESOLUTION"}
    assert reason["SlotTypeValues"][0] == {
        "SampleValue": {"Value": "unauthorised"},
        "Synonyms": [{"Value": "I didn't make it"}, {"Value": "fraud"}],
    }
    assert "Synonyms" not in reason["SlotTypeValues"][2]


def test_fallback_is_the_builtin(template):
    """Given a FallbackIntent spec, Then it becomes AMAZON.FallbackIntent with code hooks and no
    utterances or slots (Lex rejects them on the built-in)."""
    fb = intents_of(template)["FallbackIntent"]
    assert fb["ParentIntentSignature"] == "AMAZON.FallbackIntent"
    assert "SampleUtterances" not in fb and "Slots" not in fb
    assert fb["FulfillmentCodeHook"] == {"Enabled": True}


def test_fallback_added_when_missing():
    """Given specs without a fallback, When built, Then the built-in fallback is still defined
    (Lex cannot build a locale without one) and the template stays lint-clean."""
    t = build_bot_template([fixture_specs()[2]])
    assert intents_of(t)["FallbackIntent"]["ParentIntentSignature"] == "AMAZON.FallbackIntent"
    assert lint(json.dumps(t), config=ManualArgs(regions=["us-east-1"])) == []


def test_alias_wires_the_code_hook(template):
    """Given the template, Then the alias points at the published version and its locale calls the
    LexHookArn Lambda with interface 1.0; the test alias does too; Lex may invoke the Lambda."""
    (alias,) = resources_of(template, "AWS::Lex::BotAlias").values()
    (version_id,) = resources_of(template, "AWS::Lex::BotVersion")
    props = alias["Properties"]
    assert props["BotId"] == {"Ref": "Bot"}
    assert props["BotVersion"] == {"Fn::GetAtt": [version_id, "BotVersion"]}
    (setting,) = props["BotAliasLocaleSettings"]
    assert setting["LocaleId"] == "en_US"
    hook = setting["BotAliasLocaleSetting"]["CodeHookSpecification"]["LambdaCodeHook"]
    assert hook == {"LambdaArn": {"Ref": "LexHookArn"}, "CodeHookInterfaceVersion": "1.0"}
    assert setting["BotAliasLocaleSetting"]["Enabled"] is True
    assert template["Parameters"]["LexHookArn"]["Type"] == "String"
    (bot,) = resources_of(template, "AWS::Lex::Bot").values()
    assert bot["Properties"]["TestBotAliasSettings"]["BotAliasLocaleSettings"] == props["BotAliasLocaleSettings"]
    perms = resources_of(template, "AWS::Lambda::Permission")
    assert {p["Properties"]["Principal"] for p in perms.values()} == {"lexv2.amazonaws.com"}
    assert any(p["Properties"]["SourceArn"] == {"Fn::GetAtt": ["BotAlias", "Arn"]} for p in perms.values())
    assert template["Outputs"]["BotId"]["Value"] == {"Ref": "Bot"}
    assert template["Outputs"]["BotAliasArn"]["Value"] == {"Fn::GetAtt": ["BotAlias", "Arn"]}


def test_definition_change_publishes_a_new_version():
    """Given two spec sets differing by one utterance, When built, Then the BotVersion logical ids
    differ (CloudFormation creates a new version) and building twice is deterministic."""
    specs = fixture_specs()
    first = build_bot_template(specs)
    assert build_bot_template(fixture_specs()) == first
    specs[0].sample_utterances.append("chargeback please")
    second = build_bot_template(specs)
    assert set(resources_of(first, "AWS::Lex::BotVersion")) != set(resources_of(second, "AWS::Lex::BotVersion"))


@pytest.mark.parametrize(
    "specs, needle",
    [
        ([IntentSpec(name="Bad Name", description="d", sample_utterances=["x"])], "Bad Name"),
        ([IntentSpec(name="A", description="d", sample_utterances=["x"],
                     slots=[SlotSpec(name="S", slot_type="NoSuchType", prompt="p")])], "NoSuchType"),
        ([IntentSpec(name="A", description="d", sample_utterances=["pay {Missing}"])], "Missing"),
        ([IntentSpec(name="A", description="d", sample_utterances=[])], "sample utterances"),
        ([IntentSpec(name="A", description="d", sample_utterances=["x"]),
          IntentSpec(name="A", description="d", sample_utterances=["y"])], "defined twice"),
        ([IntentSpec(name="A", description="d", sample_utterances=["x"], slot_types=[REASON]),
          IntentSpec(name="B", description="d", sample_utterances=["y"],
                     slot_types=[REASON.model_copy(update={"values": [SlotTypeValue(value="other")]})])],
         "DisputeReason"),
        ([IntentSpec(name="FallbackIntent", description="d", sample_utterances=[],
                     slots=[SlotSpec(name="S", slot_type="AMAZON.Number", prompt="p")])], "FallbackIntent"),
        ([IntentSpec(name="A", description="d", sample_utterances=["Talk to  a human"]),
          IntentSpec(name="B", description="d", sample_utterances=["talk to a human"])], "both A and B"),
    ],
    ids=["bad-name", "unknown-slot-type", "unknown-slot-ref", "no-utterances", "duplicate-intent",
         "conflicting-slot-type", "fallback-slots", "utterance-in-two-intents"],
)
def test_invalid_specs_fail_early(specs, needle):
    """Given specs Lex would refuse at stack time, When built, Then BotBuildError names the problem."""
    with pytest.raises(BotBuildError, match=needle):
        build_bot_template(specs)


@pytest.fixture
def fake_registry(monkeypatch):
    """Stand-in for intents.registry (written separately) so the CLI can be exercised now."""
    module = types.ModuleType("intents.registry")
    module.all_specs = fixture_specs
    monkeypatch.setitem(sys.modules, "intents.registry", module)
    return module


def test_cli_build_bot_writes_the_template(fake_registry, tmp_path, capsys):
    """Given a registry, When running build-bot --out, Then the file holds the same template and
    the exit code is 0."""
    out = tmp_path / "build" / "lex-bot.json"
    assert cli.main(["build-bot", "--out", str(out)]) == 0
    assert json.loads(out.read_text()) == build_bot_template(fixture_specs())
    assert "4 intents" in capsys.readouterr().out


def test_cli_build_bot_errors_are_one_line(monkeypatch, tmp_path, capsys):
    """Given a registry whose specs are invalid, When running build-bot, Then exit code 1 and a
    single error line on stderr."""
    module = types.ModuleType("intents.registry")
    module.all_specs = lambda: [IntentSpec(name="Bad Name", description="d", sample_utterances=["x"])]
    monkeypatch.setitem(sys.modules, "intents.registry", module)
    assert cli.main(["build-bot", "--out", str(tmp_path / "x.json")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: build-bot: BotBuildError:") and err.count("\n") == 1
    assert not (tmp_path / "x.json").exists()


def test_cli_chat_delegates_to_the_emulator(monkeypatch):
    """Given the emulator module, When running chat --customer --script, Then emulator.main gets
    both and the process's container, and its return code is passed through."""
    from chatbot.bootstrap import Container

    calls = {}
    module = types.ModuleType("chatbot.emulator")

    def fake_main(root, customer=None, script=None):
        calls.update(customer=customer, script=script, root=type(root))
        return 0

    module.main = fake_main
    monkeypatch.setitem(sys.modules, "chatbot.emulator", module)
    monkeypatch.setattr("chatbot.emulator", module, raising=False)
    assert cli.main(["chat", "--customer", "demo-alice", "--script", "s.txt"]) == 0
    assert calls == {"customer": "demo-alice", "script": "s.txt", "root": Container}


def test_cli_usage_errors_exit_2():
    """Given no subcommand or a missing --out, When run as a process, Then the exit code is 2."""
    for argv in ([], ["build-bot"], ["frobnicate"]):
        proc = subprocess.run([sys.executable, "-m", "chatbot", *argv], cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2, (argv, proc.stderr)
        assert "usage:" in proc.stderr


def test_registry_template_is_lint_clean():
    """Given the real intents registry, When the bot is built from it, Then cfn-lint reports
    nothing and every registered intent is in the bot."""
    registry = pytest.importorskip("intents.registry")
    specs = list(registry.all_specs())
    template = build_bot_template(specs)
    assert lint(json.dumps(template), config=ManualArgs(regions=["us-east-1"])) == []
    assert set(intents_of(template)) == {s.name for s in specs} | {"FallbackIntent"}
