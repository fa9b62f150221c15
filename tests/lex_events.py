"""Golden Lex events and a factory for genuine-shaped Lex V2 code-hook events.

Why a factory: tests (and the local emulator) must exercise the hook with events shaped exactly
like the ones Lex sends (interpretations, proposedNextState, transcriptions, bot, full slot
objects), not with minimal dicts that only our own parser would accept. Shapes follow the
genuine events in ``tests/events/`` (e.g. ``aws-sam-cli__lex-v2__LexBookHotel.json``).
"""
from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

EVENTS_DIR = Path(__file__).resolve().parent / "events"

#: The genuine V2 input events in tests/events (the V1 event and the response are separate).
GENUINE_V2_EVENTS = ("aws-sam-cli__lex-v2__LexBookHotel.json", "amazon-lex-v2-helper__trade.json")
GENUINE_V1_EVENT = "aws-sam-cli__lex__LexOrderFlowers__v1_legacy.json"
GENUINE_RESPONSE = "aws-lambda-dotnet__lexv2-response.json"
RESPONSE_SCHEMA = "amazon-lex-v2-lambda-integration-examples__LexCodeHookResponseSchema.json"

BOT = {
    "id": "DSPASSIST1",
    "name": "DisputeAssistant",
    "aliasId": "TSTALIASID",
    "aliasName": "TestBotAlias",
    "version": "DRAFT",
}


def load_event(name: str) -> dict:
    """A fresh copy of a golden file (``.json`` optional); BOMs from upstream are tolerated."""
    path = EVENTS_DIR / (name if name.endswith(".json") else f"{name}.json")
    return json.loads(path.read_text(encoding="utf-8-sig"))


def slot_dict(value: Any) -> dict | None:
    """One slot as Lex sends it: str → Scalar, list of str → List, dict → as given, None → None."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        return copy.deepcopy(dict(value))
    if isinstance(value, str):
        return {
            "shape": "Scalar",
            "value": {"originalValue": value, "interpretedValue": value, "resolvedValues": [value]},
        }
    if isinstance(value, Sequence):
        items = [str(v) for v in value]
        joined = " ".join(items)
        return {
            "shape": "List",
            "value": {"originalValue": joined, "interpretedValue": joined, "resolvedValues": items},
            "values": [slot_dict(v) for v in items],
        }
    raise TypeError(f"cannot make a slot from {type(value).__name__}")


def make_lex_event(
    intent: str = "FileDispute",
    slots: Mapping[str, Any] | None = None,
    transcript: str = "I want to dispute a charge of 42.99",
    source: str = "DialogCodeHook",
    session_attributes: Mapping[str, str] | None = None,
    request_attributes: Mapping[str, str] | None = None,
    confirmation_state: str = "None",
    state: str = "InProgress",
    session_id: str = "s-1",
    locale: str = "en_US",
    *,
    input_mode: str = "Text",
    nlu_confidence: float | None = 1.0,
    slot_to_elicit: str | None = None,
    dialog_action: Mapping[str, Any] | None = None,
    active_contexts: list[dict] | None = None,
) -> dict:
    """A Lex V2 code-hook event as Lex would send it for one turn.

    ``slots`` defaults to ``{"Amount": "42.99"}``; pass ``{}`` for an intent without slots.
    For a DialogCodeHook with a slot still to fill, ``proposedNextState`` elicits ``slot_to_elicit``
    or else the first empty slot (what Lex does next if the hook delegates); ``dialog_action`` becomes
    ``sessionState.dialogAction`` (Lex's current action, e.g. the slot it just asked for).
    """
    slot_values = {"Amount": "42.99"} if slots is None else slots
    slot_objs = {name: slot_dict(v) for name, v in slot_values.items()}
    intent_obj = {
        "name": intent,
        "slots": slot_objs,
        "state": state,
        "confirmationState": confirmation_state,
    }
    interpretation: dict[str, Any] = {"intent": copy.deepcopy(intent_obj)}
    if nlu_confidence is not None:
        interpretation["nluConfidence"] = nlu_confidence
    interpretations = [interpretation]
    if intent != "FallbackIntent":
        interpretations.append(
            {
                "intent": {
                    "name": "FallbackIntent",
                    "slots": {},
                    "state": "InProgress",
                    "confirmationState": "None",
                }
            }
        )
    session_state: dict[str, Any] = {
        "sessionAttributes": dict(session_attributes or {}),
        "intent": copy.deepcopy(intent_obj),
        "originatingRequestId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{session_id}/{transcript}")),
    }
    if dialog_action is not None:
        session_state["dialogAction"] = dict(dialog_action)
    if active_contexts is not None:
        session_state["activeContexts"] = copy.deepcopy(active_contexts)
    event: dict[str, Any] = {
        "sessionId": session_id,
        "inputTranscript": transcript,
        "interpretations": interpretations,
        "responseContentType": "text/plain; charset=utf-8",
        "sessionState": session_state,
        "messageVersion": "1.0",
        "invocationSource": source,
        "transcriptions": [
            {
                "resolvedSlots": {},
                "resolvedContext": {"intent": intent},
                "transcription": transcript,
                "transcriptionConfidence": 1,
            }
        ],
        "inputMode": input_mode,
        "bot": {**BOT, "localeId": locale},
        "requestAttributes": dict(request_attributes or {}),
    }
    if source == "DialogCodeHook":
        next_slot = slot_to_elicit or next((k for k, v in slot_objs.items() if v is None), None)
        if next_slot:
            event["proposedNextState"] = {
                "intent": copy.deepcopy(intent_obj),
                "dialogAction": {"slotToElicit": next_slot, "type": "ElicitSlot"},
            }
    return event
