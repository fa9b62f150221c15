"""Parsing Lex V2 code-hook events: genuine events, the quirks they carry, and every kind of junk."""
from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lexv2.events import LexEvent
from lexv2.parsing import LexEventError, parse_event
from lexv2.wire import EVENT_ERROR_CODES, EVENT_MAX_BYTES
from tests.lex.conftest import golden_of
from tests.lex_events import GENUINE_V1_EVENT, GENUINE_V2_EVENTS, load_event, make_lex_event

V2_FILES = golden_of("v2_event")
V1_FILES = golden_of("v1_event")


def error_code(raw) -> str:
    with pytest.raises(LexEventError) as info:
        parse_event(raw)
    return info.value.code


def test_the_developer_set_is_classified():
    """Given the golden files, When classified by content, Then both genuine V2 events and the
    V1 event are found (guards the parametrised tests below against silently running on nothing)."""
    names = {f.name for f in V2_FILES}
    assert set(GENUINE_V2_EVENTS) <= names
    assert GENUINE_V1_EVENT in {f.name for f in V1_FILES}


@pytest.mark.parametrize("path", V2_FILES, ids=lambda p: p.name)
def test_every_genuine_v2_event_parses(path, read_golden):
    """Given a genuine Lex V2 event, When parsed, Then it yields a LexEvent whose intent,
    bot and interpretations match the file."""
    raw = read_golden(path)
    event = parse_event(raw)
    assert isinstance(event, LexEvent)
    assert event.intent_name == raw["sessionState"]["intent"]["name"]
    assert event.session_id == raw["sessionId"]
    assert event.bot.locale_id == raw["bot"]["localeId"]
    assert len(event.interpretations) == len(raw.get("interpretations") or [])
    assert event.invocation_source == raw["invocationSource"]


def test_book_hotel_fields_are_typed():
    """Given the SAM BookHotel event, When parsed, Then numbers are floats, empty slots are None
    and the proposed next slot is exposed."""
    event = parse_event(load_event("aws-sam-cli__lex-v2__LexBookHotel"))
    assert event.interpretations[0].nlu_confidence == 1.0
    assert event.interpretations[2].nlu_confidence == pytest.approx(0.42)
    assert event.interpretations[1].nlu_confidence is None  # FallbackIntent carries none
    assert event.intent.slots == {"RoomType": None, "CheckInDate": None, "Nights": None, "Location": None}
    assert event.slot_to_elicit == "Location"
    assert event.proposed_next_state.dialog_action.type == "ElicitSlot"
    assert event.transcriptions[0].resolved_context.intent == "BookHotel"
    assert event.bot.alias_id == "TSTALIASID"
    assert event.session_attributes == {}
    assert event.session_state.originating_request_id == "4686558a-ebce-49a8-9df9-f513590c0a95"


def test_trade_quirks_are_coerced():
    """Given the trade event with "None" slot strings and string confidences, When parsed,
    Then slots are None and confidences are floats."""
    event = parse_event(load_event("amazon-lex-v2-helper__trade"))
    assert event.intent.slots == {"ExpirationDate": None, "StrikePrice": None, "Ticker": None}
    assert event.slot_value("Ticker") is None
    assert [i.nlu_confidence for i in event.interpretations] == [1.0, 0.55, 0.54, 0.46, None]
    assert event.nlu_confidence("BuyTradeIntent") == pytest.approx(0.55)
    assert event.bot.locale_id == "en_GB"


def test_runtime_style_confidence_object_is_accepted():
    """Given nluConfidence as the runtime API's {"score": x}, When parsed, Then the score is used."""
    raw = make_lex_event()
    raw["interpretations"][0]["nluConfidence"] = {"score": 0.83}
    assert parse_event(raw).interpretations[0].nlu_confidence == pytest.approx(0.83)


def test_factory_event_exposes_slot_values():
    """Given a factory event with Scalar, List and empty slots, When parsed, Then slot_value
    gives interpreted values and None for empty or unknown slots."""
    raw = make_lex_event(slots={"Amount": "42.99", "Reasons": ["duplicate", "wrong amount"], "Date": None})
    event = parse_event(raw)
    assert event.slot_value("Amount") == "42.99"
    assert event.intent.slots["Amount"].shape == "Scalar"
    assert event.intent.slots["Reasons"].interpreted_values == ["duplicate", "wrong amount"]
    assert event.slot_value("Date") is None
    assert event.slot_value("NoSuchSlot") is None
    assert event.slot_to_elicit == "Date"


def test_unknown_fields_are_tolerated():
    """Given an event where Lex added fields at several levels, When parsed, Then it still parses
    (Lex adds fields without changing messageVersion)."""
    raw = make_lex_event()
    raw["brandNewField"] = {"x": 1}
    raw["sessionState"]["intent"]["kendraResponse"] = {"ResultItems": []}
    raw["sessionState"]["intent"]["slots"]["Amount"]["futureFlag"] = True
    raw["interpretations"][0]["interpretationSource"] = "Lex"
    event = parse_event(raw)
    assert event.slot_value("Amount") == "42.99"


def test_json_text_is_accepted():
    """Given the event as JSON text or bytes (local tools), When parsed, Then it is the same event."""
    raw = make_lex_event()
    assert parse_event(json.dumps(raw)).slot_value("Amount") == "42.99"
    assert parse_event(json.dumps(raw).encode()).intent_name == "FileDispute"


@pytest.mark.parametrize("path", V1_FILES, ids=lambda p: p.name)
def test_lex_v1_event_is_recognised(path, read_golden):
    """Given a Lex V1 event (also messageVersion "1.0"), When parsed, Then it is lex_v1_event."""
    assert error_code(read_golden(path)) == "lex_v1_event"


def test_v1_shape_without_current_intent_is_still_v1():
    """Given a V1 payload stripped to userId/sessionAttributes, When parsed, Then it is lex_v1_event."""
    raw = {"messageVersion": "1.0", "invocationSource": "DialogCodeHook", "userId": "u", "bot": {}}
    assert error_code(raw) == "lex_v1_event"


@pytest.mark.parametrize(
    "raw",
    [None, [], [make_lex_event()], "hello", b"\xff\xfe", 42, 3.5, True, "[1, 2]", "null", "NaN", ""],
    ids=repr,
)
def test_non_objects_are_not_a_dict(raw):
    """Given a payload that is not a JSON object, When parsed, Then the code is not_a_dict."""
    assert error_code(raw) == "not_a_dict"


def test_error_carries_code_and_message():
    """Given garbage, When parsed, Then the error exposes a stable code and a readable message."""
    with pytest.raises(LexEventError) as info:
        parse_event(None)
    assert info.value.code == "not_a_dict"
    assert "NoneType" in info.value.message
    assert str(info.value).startswith("not_a_dict: ")


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda e: e.pop("sessionId"), "sessionId"),
        (lambda e: e.pop("invocationSource"), "invocationSource"),
        (lambda e: e.pop("sessionState"), "sessionState"),
        (lambda e: e["sessionState"].pop("intent"), "sessionState.intent"),
        (lambda e: e["sessionState"]["intent"].pop("name"), "sessionState.intent.name"),
        (lambda e: e.pop("bot"), "bot"),
        (lambda e: e.pop("inputTranscript"), "inputTranscript"),
    ],
    ids=lambda x: x if isinstance(x, str) else "",
)
def test_missing_required_fields(mutate, field):
    """Given an event without a field the hook relies on, When parsed, Then the code is
    missing_field and the message names the camelCase path."""
    raw = make_lex_event()
    mutate(raw)
    with pytest.raises(LexEventError) as info:
        parse_event(raw)
    assert info.value.code == "missing_field"
    assert field in info.value.message


@pytest.mark.parametrize(
    "mutate",
    [
        lambda e: e.update(invocationSource="FulfilmentHook"),
        lambda e: e.update(inputMode="Telepathy"),
        lambda e: e.update(sessionId=""),
        lambda e: e.update(sessionState=[]),
        lambda e: e["sessionState"].update(sessionAttributes={"n": 5}),
        lambda e: e["sessionState"]["intent"].update(state="Sleeping"),
        lambda e: e["sessionState"]["intent"].update(confirmationState="Maybe"),
        lambda e: e["sessionState"]["intent"]["slots"].update(Amount=12),
        lambda e: e["interpretations"][0].update(nluConfidence=1.5),
        lambda e: e["interpretations"][0].update(nluConfidence="high"),
        lambda e: e["sessionState"].update(dialogAction={"type": "ElicitSlot"}),
        lambda e: e.update(requestAttributes=["a"]),
    ],
)
def test_invalid_fields(mutate):
    """Given an event with a field of the wrong type or value, When parsed, Then invalid_field."""
    raw = make_lex_event()
    mutate(raw)
    assert error_code(raw) == "invalid_field"


def test_error_messages_never_echo_values():
    """Given an invalid value that looks like a card number, When rejected, Then the message
    names the field but not the value (messages are logged; PAN must never be)."""
    raw = make_lex_event()
    raw["sessionState"]["sessionAttributes"] = {"card": 4111111111111111}
    with pytest.raises(LexEventError) as info:
        parse_event(raw)
    assert info.value.code == "invalid_field"
    assert "sessionAttributes" in info.value.message
    assert "4111" not in str(info.value)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_and_infinity_are_invalid(bad):
    """Given NaN/Infinity anywhere (not valid JSON), When parsed, Then invalid_field."""
    raw = make_lex_event()
    raw["interpretations"][0]["nluConfidence"] = bad
    assert error_code(raw) == "invalid_field"


def test_non_json_values_are_invalid():
    """Given a Python object that JSON cannot carry, When parsed, Then invalid_field."""
    raw = make_lex_event()
    raw["requestAttributes"] = {"x": object()}
    assert error_code(raw) == "invalid_field"


def test_oversized_event_is_too_large():
    """Given an event over 100 KB (a padded transcript), When parsed, Then too_large."""
    raw = make_lex_event(transcript="a" * (EVENT_MAX_BYTES + 1))
    assert error_code(raw) == "too_large"
    assert error_code(json.dumps(raw)) == "too_large"


def test_ten_kilobyte_transcript_is_fine():
    """Given a 10 KB transcript of emoji and non-Latin text, When parsed, Then it is accepted."""
    transcript = ("\U0001F4B3 \u0436\u0443\u043a \u4e2d\u6587 " * 800)[:10_000]
    assert parse_event(make_lex_event(transcript=transcript)).input_transcript == transcript


def test_deeply_nested_payload_is_too_large():
    """Given an object nested 100 000 levels deep, When parsed, Then too_large (no RecursionError)."""
    deep: dict = {}
    node = deep
    for _ in range(100_000):
        node["x"] = {}
        node = node["x"]
    raw = make_lex_event()
    raw["requestAttributes"] = deep
    assert error_code(raw) == "too_large"
    assert error_code("[" * 100_000 + "]" * 100_000) in {"not_a_dict", "too_large"}


def test_many_tiny_values_are_too_large():
    """Given a flat list of 200 000 zeros, When parsed, Then too_large."""
    raw = make_lex_event()
    raw["junk"] = [0] * 200_000
    assert error_code(raw) == "too_large"


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_arbitrary_json_never_raises_anything_else(value):
    """Given any JSON-like value, When parsed, Then the only possible failure is LexEventError
    with a known code."""
    try:
        parse_event(value)
    except LexEventError as exc:
        assert exc.code in EVENT_ERROR_CODES


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, prefix + (i,))


BASE = make_lex_event(slots={"Amount": "42.99", "Reasons": ["a", "b"], "Date": None})
BASE_PATHS = [p for p in _paths(BASE) if p]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(BASE_PATHS), json_values)
def test_mutated_genuine_shape_never_raises_anything_else(path, replacement):
    """Given a genuine-shaped event with one field replaced by arbitrary JSON, When parsed,
    Then it either parses or fails with LexEventError (no TypeError/KeyError deep in a model)."""
    raw = json.loads(json.dumps(BASE))
    node = raw
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = replacement
    try:
        event = parse_event(raw)
    except LexEventError as exc:
        assert exc.code in EVENT_ERROR_CODES
    else:
        assert isinstance(event.intent_name, str) and event.intent_name
