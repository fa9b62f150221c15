"""Turn the intents' specs into the CloudFormation that defines the Lex V2 bot.

Why generated: the bot definition (utterances, slots, prompts, slot types) must never drift from
the handlers and the local emulator, so all three read the same :class:`~intents.spec.IntentSpec`
objects. Mistakes Lex would only report after a slow, failed stack build (unknown slot type, an
utterance naming a slot the intent lacks, a bad name) are raised here as :class:`BotBuildError`.

The template contains: the bot's runtime role (Polly for voice channels), the ``AWS::Lex::Bot``
with one locale, a ``AWS::Lex::BotVersion`` whose logical id carries a hash of the definition (so
any change publishes a new version instead of silently keeping the old one), an alias wired to
the code-hook Lambda (parameter ``LexHookArn``), and the Lambda permissions Lex needs to call it.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from typing import Any

from intents.spec import IntentSpec, SlotSpec, SlotTypeSpec

FALLBACK_INTENT = "FallbackIntent"
FALLBACK_SIGNATURE = "AMAZON.FallbackIntent"
CODE_HOOK_INTERFACE_VERSION = "1.0"
TEST_ALIAS_ID = "TSTALIASID"

NAME_RE = re.compile(r"^([0-9a-zA-Z][_-]?)+$")
SLOT_REF_RE = re.compile(r"\{([^{}]+)\}")
MAX_NAME = 100
MAX_UTTERANCE = 200
MAX_SLOT_VALUE = 140
MAX_DESCRIPTION = 200
MAX_PROMPT = 1000

#: Built-in slot types the builder accepts without a SlotTypeSpec.
BUILTIN_SLOT_TYPES = frozenset(
    {
        "AMAZON.AlphaNumeric", "AMAZON.City", "AMAZON.Confirmation", "AMAZON.Country",
        "AMAZON.Date", "AMAZON.EmailAddress", "AMAZON.FirstName", "AMAZON.FreeFormInput",
        "AMAZON.LastName", "AMAZON.Number", "AMAZON.Percentage", "AMAZON.PhoneNumber",
        "AMAZON.State", "AMAZON.StreetName", "AMAZON.Time", "AMAZON.UKPostalCode",
        "AMAZON.Duration",
    }
)

#: Polly voices for the locales we may deploy; other locales get no voice settings.
VOICES = {"en_US": "Joanna", "en_GB": "Amy", "en_AU": "Olivia", "en_IN": "Kajal", "es_US": "Lupe"}

DEFAULT_DECLINATION = "Okay, I won't do that. Is there anything else I can help with?"


class BotBuildError(ValueError):
    """The specs cannot make a bot Lex would build; the message names the intent and slot."""


def _check_name(kind: str, name: str) -> None:
    if not (1 <= len(name) <= MAX_NAME) or not NAME_RE.match(name):
        raise BotBuildError(
            f"{kind} name {name!r} is invalid for Lex (letters, digits, single '_' or '-' "
            f"between them, at most {MAX_NAME} characters)"
        )


def _description(text: str) -> str:
    return text[:MAX_DESCRIPTION]


def _messages(text: str) -> list[dict[str, Any]]:
    if not text or len(text) > MAX_PROMPT:
        raise BotBuildError(f"prompt must be 1..{MAX_PROMPT} characters: {text[:40]!r}")
    return [{"Message": {"PlainTextMessage": {"Value": text}}}]


def _prompt(text: str, max_retries: int = 2) -> dict[str, Any]:
    return {"MessageGroupsList": _messages(text), "MaxRetries": max_retries, "AllowInterrupt": True}


def _utterances(where: str, utterances: Iterable[str], slot_names: set[str]) -> list[dict[str, str]]:
    out = []
    for u in utterances:
        if not u.strip() or len(u) > MAX_UTTERANCE:
            raise BotBuildError(f"{where}: utterance must be 1..{MAX_UTTERANCE} characters: {u[:40]!r}")
        unknown = set(SLOT_REF_RE.findall(u)) - slot_names
        if unknown:
            raise BotBuildError(f"{where}: utterance {u!r} refers to unknown slot(s) {sorted(unknown)}")
        out.append({"Utterance": u})
    return out


def _slot_type(spec: SlotTypeSpec) -> dict[str, Any]:
    _check_name("slot type", spec.name)
    if not spec.values:
        raise BotBuildError(f"slot type {spec.name}: needs at least one value")
    if spec.resolution not in ("ORIGINAL_VALUE", "TOP_RESOLUTION"):
        raise BotBuildError(f"slot type {spec.name}: resolution must be ORIGINAL_VALUE or TOP_RESOLUTION")
    values = []
    for v in spec.values:
        for text in (v.value, *v.synonyms):
            if not text or len(text) > MAX_SLOT_VALUE:
                raise BotBuildError(f"slot type {spec.name}: value must be 1..{MAX_SLOT_VALUE} characters: {text[:40]!r}")
        item: dict[str, Any] = {"SampleValue": {"Value": v.value}}
        if v.synonyms:
            item["Synonyms"] = [{"Value": s} for s in v.synonyms]
        values.append(item)
    out: dict[str, Any] = {
        "Name": spec.name,
        "SlotTypeValues": values,
        "ValueSelectionSetting": {"ResolutionStrategy": spec.resolution},
    }
    if spec.description:
        out["Description"] = _description(spec.description)
    return out


def _collect_slot_types(specs: list[IntentSpec]) -> dict[str, SlotTypeSpec]:
    types: dict[str, SlotTypeSpec] = {}
    for spec in specs:
        for st in spec.slot_types:
            if st.name in BUILTIN_SLOT_TYPES or st.name.startswith("AMAZON."):
                raise BotBuildError(f"intent {spec.name}: slot type {st.name} shadows a built-in type")
            known = types.get(st.name)
            if known is not None and known != st:
                raise BotBuildError(f"slot type {st.name} is defined differently by two intents")
            types[st.name] = st
    return types


def _slot(intent: str, slot: SlotSpec, slot_types: dict[str, SlotTypeSpec]) -> dict[str, Any]:
    _check_name(f"intent {intent}: slot", slot.name)
    if slot.slot_type not in BUILTIN_SLOT_TYPES and slot.slot_type not in slot_types:
        raise BotBuildError(
            f"intent {intent}: slot {slot.name} uses slot type {slot.slot_type!r}, which is neither "
            "built in nor defined by any intent's slot_types"
        )
    setting: dict[str, Any] = {
        "SlotConstraint": "Required" if slot.required else "Optional",
        "PromptSpecification": _prompt(slot.prompt),
    }
    if slot.sample_utterances:
        setting["SampleUtterances"] = _utterances(
            f"intent {intent}: slot {slot.name}", slot.sample_utterances, {slot.name}
        )
    out: dict[str, Any] = {
        "Name": slot.name,
        "SlotTypeName": slot.slot_type,
        "ValueElicitationSetting": setting,
    }
    if slot.description:
        out["Description"] = _description(slot.description)
    return out


def _intent(spec: IntentSpec, slot_types: dict[str, SlotTypeSpec]) -> dict[str, Any]:
    _check_name("intent", spec.name)
    names = [s.name for s in spec.slots]
    if len(set(names)) != len(names):
        raise BotBuildError(f"intent {spec.name}: duplicate slot names")
    if not spec.sample_utterances:
        raise BotBuildError(f"intent {spec.name}: needs sample utterances for Lex to recognise it")
    out: dict[str, Any] = {
        "Name": spec.name,
        "Description": _description(spec.description),
        "SampleUtterances": _utterances(f"intent {spec.name}", spec.sample_utterances, set(names)),
        "DialogCodeHook": {"Enabled": spec.dialog_code_hook},
        "FulfillmentCodeHook": {"Enabled": spec.fulfillment_code_hook},
    }
    if spec.slots:
        out["Slots"] = [_slot(spec.name, s, slot_types) for s in spec.slots]
        out["SlotPriorities"] = [{"Priority": i, "SlotName": n} for i, n in enumerate(names, start=1)]
    if spec.confirmation_prompt:
        out["IntentConfirmationSetting"] = {
            "PromptSpecification": _prompt(spec.confirmation_prompt),
            "DeclinationResponse": {
                "MessageGroupsList": _messages(spec.declination_response or DEFAULT_DECLINATION),
                "AllowInterrupt": True,
            },
        }
    return out


def _fallback(spec: IntentSpec | None) -> dict[str, Any]:
    """Lex's built-in fallback: no utterances or slots allowed, only its signature and hooks.

    A FallbackIntent spec may still list utterances (the local emulator uses them); they are not
    sent to Lex, which would reject them.
    """
    if spec is not None and spec.slots:
        raise BotBuildError("FallbackIntent cannot have slots in Lex")
    return {
        "Name": FALLBACK_INTENT,
        "Description": _description(
            spec.description if spec else "Anything the other intents do not recognise"
        ),
        "ParentIntentSignature": FALLBACK_SIGNATURE,
        "DialogCodeHook": {"Enabled": spec.dialog_code_hook if spec else True},
        "FulfillmentCodeHook": {"Enabled": spec.fulfillment_code_hook if spec else True},
    }


def _code_hook_settings(locale: str) -> list[dict[str, Any]]:
    return [
        {
            "LocaleId": locale,
            "BotAliasLocaleSetting": {
                "Enabled": True,
                "CodeHookSpecification": {
                    "LambdaCodeHook": {
                        "LambdaArn": {"Ref": "LexHookArn"},
                        "CodeHookInterfaceVersion": CODE_HOOK_INTERFACE_VERSION,
                    }
                },
            },
        }
    ]


def build_bot_template(
    specs: list[IntentSpec],
    bot_name: str = "DisputeAssistant",
    locale: str = "en_US",
    *,
    nlu_confidence_threshold: float = 0.40,
    idle_session_ttl_s: int = 900,
    alias_name: str = "live",
) -> dict[str, Any]:
    """A CloudFormation template (a JSON-ready dict) for the bot described by ``specs``.

    ``specs`` are in the order intents should appear; a spec named ``FallbackIntent`` becomes
    Lex's built-in fallback (one is added when absent, because Lex refuses a locale without it).
    """
    _check_name("bot", bot_name)
    if not 60 <= idle_session_ttl_s <= 86400:
        raise BotBuildError("idle_session_ttl_s must be 60..86400 seconds")
    if not 0.0 <= nlu_confidence_threshold <= 1.0:
        raise BotBuildError("nlu_confidence_threshold must be within 0..1")
    seen: set[str] = set()
    for spec in specs:
        if spec.name in seen:
            raise BotBuildError(f"intent {spec.name} is defined twice")
        seen.add(spec.name)

    owner: dict[str, str] = {}
    for spec in specs:
        if spec.name == FALLBACK_INTENT:
            continue
        for u in spec.sample_utterances:
            key = " ".join(u.lower().split())
            if owner.setdefault(key, spec.name) != spec.name:
                raise BotBuildError(
                    f"utterance {u!r} is in both {owner[key]} and {spec.name}; Lex cannot tell them apart"
                )

    slot_types = _collect_slot_types(specs)
    fallback_spec = next((s for s in specs if s.name == FALLBACK_INTENT), None)
    intents = [_intent(s, slot_types) for s in specs if s.name != FALLBACK_INTENT]
    intents.append(_fallback(fallback_spec))

    bot_locale: dict[str, Any] = {
        "LocaleId": locale,
        "Description": _description(f"{bot_name} ({locale})"),
        "NluConfidenceThreshold": nlu_confidence_threshold,
        "Intents": intents,
    }
    if slot_types:
        bot_locale["SlotTypes"] = [_slot_type(st) for st in slot_types.values()]
    if locale in VOICES:
        bot_locale["VoiceSettings"] = {"VoiceId": VOICES[locale]}

    bot_props: dict[str, Any] = {
        "Name": bot_name,
        "Description": _description(f"{bot_name}: card-payment disputes, holds and handover"),
        "RoleArn": {"Fn::GetAtt": ["BotRuntimeRole", "Arn"]},
        "DataPrivacy": {"ChildDirected": False},
        "IdleSessionTTLInSeconds": idle_session_ttl_s,
        "AutoBuildBotLocales": True,
        "BotLocales": [bot_locale],
        "TestBotAliasSettings": {"BotAliasLocaleSettings": _code_hook_settings(locale)},
    }
    digest = hashlib.sha256(json.dumps(bot_props, sort_keys=True).encode()).hexdigest()[:12]
    version_id = f"BotVersion{digest}"

    resources: dict[str, Any] = {
        "BotRuntimeRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lexv2.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                },
                "Policies": [
                    {
                        "PolicyName": "LexRuntime",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {"Effect": "Allow", "Action": "polly:SynthesizeSpeech", "Resource": "*"}
                            ],
                        },
                    }
                ],
            },
        },
        "Bot": {"Type": "AWS::Lex::Bot", "Properties": bot_props},
        version_id: {
            "Type": "AWS::Lex::BotVersion",
            "Properties": {
                "BotId": {"Ref": "Bot"},
                "Description": f"Definition {digest}",
                "BotVersionLocaleSpecification": [
                    {"LocaleId": locale, "BotVersionLocaleDetails": {"SourceBotVersion": "DRAFT"}}
                ],
            },
        },
        "BotAlias": {
            "Type": "AWS::Lex::BotAlias",
            "Properties": {
                "BotId": {"Ref": "Bot"},
                "BotAliasName": alias_name,
                "BotVersion": {"Fn::GetAtt": [version_id, "BotVersion"]},
                "BotAliasLocaleSettings": _code_hook_settings(locale),
            },
        },
        "LexInvokeHookPermission": {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "Action": "lambda:InvokeFunction",
                "FunctionName": {"Ref": "LexHookArn"},
                "Principal": "lexv2.amazonaws.com",
                "SourceArn": {"Fn::GetAtt": ["BotAlias", "Arn"]},
            },
        },
        "LexTestAliasInvokeHookPermission": {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "Action": "lambda:InvokeFunction",
                "FunctionName": {"Ref": "LexHookArn"},
                "Principal": "lexv2.amazonaws.com",
                "SourceArn": {
                    "Fn::Sub": "arn:${AWS::Partition}:lex:${AWS::Region}:${AWS::AccountId}:"
                    f"bot-alias/${{Bot}}/{TEST_ALIAS_ID}"
                },
            },
        },
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"Amazon Lex V2 bot {bot_name} ({locale}), generated from intents/ by "
        "`python -m chatbot build-bot`; do not edit by hand.",
        "Parameters": {
            "LexHookArn": {
                "Type": "String",
                "Description": "ARN of the lex_hook Lambda function (dialog and fulfilment code hook)",
                "AllowedPattern": "^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?$",
            }
        },
        "Resources": resources,
        "Outputs": {
            "BotId": {"Description": "Lex V2 bot id", "Value": {"Ref": "Bot"}},
            "BotAliasId": {"Description": "Alias id for RecognizeText", "Value": {"Fn::GetAtt": ["BotAlias", "BotAliasId"]}},
            "BotAliasArn": {"Description": "Alias ARN", "Value": {"Fn::GetAtt": ["BotAlias", "Arn"]}},
            "BotVersion": {"Description": "Published version", "Value": {"Fn::GetAtt": [version_id, "BotVersion"]}},
        },
    }
