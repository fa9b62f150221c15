"""Lex V2 responses: every builder's output is a valid code-hook response within Lex's limits."""
from __future__ import annotations

import json

import jsonschema
import pytest
from pydantic import ValidationError

from lexv2.builders import (
    card,
    close,
    confirm_intent,
    custom_payload,
    delegate,
    elicit_intent,
    elicit_slot,
    make_intent,
    ssml,
    text,
)
from lexv2.parsing import parse_event
from lexv2.responses import Button, LexResponse, LexResponseError, Message
from lexv2.state import ActiveContext, TimeToLive
from lexv2.wire import RESPONSE_MAX_BYTES, SESSION_ATTRIBUTES_MAX_BYTES
from tests.lex.conftest import golden_of
from tests.lex_events import GENUINE_RESPONSE, load_event, make_lex_event

RESPONSE_FILES = golden_of("v2_response")


@pytest.fixture
def event():
    return parse_event(
        make_lex_event(
            slots={"Amount": "42.99", "Reason": None},
            session_attributes={"verified": "demo-alice"},
        )
    )


def _builders(event):
    ctx = [ActiveContext(name="dispute", time_to_live=TimeToLive(time_to_live_in_seconds=300, turns_to_live=5))]
    return {
        "elicit_slot": elicit_slot(event, "Reason", "Why are you disputing it?"),
        "elicit_slot_style": elicit_slot(event, "Reason", None, style="SpellByLetter"),
        "confirm_intent": confirm_intent(event, "File a dispute for $42.99?"),
        "delegate": delegate(event, active_contexts=ctx),
        "elicit_intent": elicit_intent(event, "What would you like to do?"),
        "close_fulfilled": close(event, "Fulfilled", ["Filed.", text("Reference D-1")]),
        "close_failed": close(event, "Failed", ssml("<speak>Sorry</speak>")),
        "card": elicit_slot(
            event, "Reason", [text("Pick one:"), card("Reason", ["Duplicate", ("Not received", "not_received")])]
        ),
        "custom": close(event, "Fulfilled", custom_payload('{"kind": "receipt"}'), request_attributes={"k": "v"}),
        "from_intent": elicit_slot(make_intent("DisputeStatus", {"CaseId": None}), "CaseId", "Which case?"),
    }


@pytest.mark.parametrize(
    "name",
    ["elicit_slot", "elicit_slot_style", "confirm_intent", "delegate", "elicit_intent", "close_fulfilled",
     "close_failed", "card", "custom", "from_intent"],
)
def test_builder_output_matches_lex_schema(event, response_validator, name):
    """Given a parsed event, When a builder makes a response, Then its wire form is valid against
    Lex's code-hook response schema and plain JSON."""
    wire = _builders(event)[name].to_dict()
    response_validator.validate(wire)
    assert json.loads(json.dumps(wire)) == wire


def test_schema_validator_rejects_broken_responses(response_validator):
    """Given hand-broken responses (the mistakes builders prevent), When validated, Then the schema
    rejects them, so the builder tests above are able to fail."""
    for broken in (
        {"sessionState": {"dialogAction": {"type": "ElicitSlot"}, "sessionAttributes": {}}},
        {"sessionState": {"dialogAction": {"type": "ElicitIntent"}, "sessionAttributes": {}}},
        {"sessionState": {"dialogAction": {"type": "Close"}, "sessionAttributes": {}},
         "messages": [{"contentType": "ImageResponseCard", "content": "x"}]},
        {"sessionState": {"dialogAction": {"type": "Close"}, "sessionAttributes": {"n": 1}}},
    ):
        with pytest.raises(jsonschema.ValidationError):
            response_validator.validate(broken)


def test_elicit_slot_wire_shape(event):
    """Given an event, When eliciting a slot, Then Lex gets ElicitSlot with the slot name, the
    intent with its slots, the carried-over session attributes and a PlainText message."""
    wire = elicit_slot(event, "Reason", "Why?").to_dict()
    state = wire["sessionState"]
    assert state["dialogAction"] == {"type": "ElicitSlot", "slotToElicit": "Reason"}
    assert state["intent"]["name"] == "FileDispute"
    assert state["intent"]["state"] == "InProgress"
    assert state["intent"]["slots"]["Amount"]["value"]["interpretedValue"] == "42.99"
    assert state["intent"]["slots"]["Reason"] is None
    assert state["sessionAttributes"] == {"verified": "demo-alice"}
    assert wire["messages"] == [{"contentType": "PlainText", "content": "Why?"}]
    assert "requestAttributes" not in wire


def test_slots_override_sets_and_clears(event):
    """Given a bad Amount, When re-eliciting with slots={"Amount": None, "Reason": "duplicate"},
    Then Amount goes back as null and Reason as a full Scalar slot."""
    wire = elicit_slot(event, "Amount", "How much?", slots={"Amount": None, "Reason": "duplicate"}).to_dict()
    slots = wire["sessionState"]["intent"]["slots"]
    assert slots["Amount"] is None
    assert slots["Reason"] == {
        "shape": "Scalar",
        "value": {"originalValue": "duplicate", "interpretedValue": "duplicate", "resolvedValues": ["duplicate"]},
    }
    assert event.slot_value("Amount") == "42.99"  # the event itself is untouched


def test_explicit_session_attributes_replace_carried_ones(event):
    """Given explicit session attributes, When building, Then they replace the event's wholesale
    (so a handler can drop keys)."""
    wire = delegate(event, {"step": "2"}).to_dict()
    assert wire["sessionState"]["sessionAttributes"] == {"step": "2"}
    assert "messages" not in wire


def test_close_sets_state_and_rejects_others(event):
    """Given close, When called with Fulfilled/Failed, Then the intent state is set; any other
    state is refused."""
    assert close(event, "Failed", "No.").to_dict()["sessionState"]["intent"]["state"] == "Failed"
    with pytest.raises(ValueError):
        close(event, "InProgress", "x")  # type: ignore[arg-type]


def test_confirm_intent_resets_confirmation(response_validator):
    """Given an intent already Denied, When asking for confirmation again, Then the state sent is
    InProgress with confirmationState None."""
    ev = parse_event(make_lex_event(confirmation_state="Denied", state="ReadyForFulfillment"))
    intent = confirm_intent(ev, "Shall I file it?").to_dict()["sessionState"]["intent"]
    assert (intent["state"], intent["confirmationState"]) == ("InProgress", "None")


def test_lex_only_states_are_not_echoed(response_validator):
    """Given an event whose intent is FulfillmentInProgress (a state only Lex sets), When
    delegating, Then the response uses a state a code hook may set."""
    ev = parse_event(make_lex_event(state="FulfillmentInProgress", source="FulfillmentCodeHook"))
    wire = delegate(ev).to_dict()
    response_validator.validate(wire)
    assert wire["sessionState"]["intent"]["state"] == "InProgress"


def test_elicit_intent_needs_a_message_and_sends_no_intent(event):
    """Given elicit_intent, When built, Then no intent is sent; without a message it is refused."""
    wire = elicit_intent(event, "Anything else?").to_dict()
    assert "intent" not in wire["sessionState"]
    assert wire["sessionState"]["sessionAttributes"] == {"verified": "demo-alice"}
    with pytest.raises(ValueError):
        elicit_intent(event, [])
    assert elicit_intent(None, "Hi").to_dict()["sessionState"]["sessionAttributes"] == {}


def test_genuine_response_round_trips(response_validator):
    """Given the genuine .NET Lex V2 response, When parsed and serialised, Then it is unchanged
    and schema-valid."""
    raw = load_event(GENUINE_RESPONSE)
    wire = LexResponse.model_validate(raw).to_dict()
    assert wire == raw
    response_validator.validate(wire)


@pytest.mark.parametrize("path", RESPONSE_FILES, ids=lambda p: p.name)
def test_every_golden_response_round_trips(path, read_golden, response_validator):
    """Given each genuine response in the developer set, When round-tripped, Then it stays valid."""
    wire = LexResponse.model_validate(read_golden(path)).to_dict()
    response_validator.validate(wire)


def test_card_buttons_accept_several_forms():
    """Given buttons as Button, str, pair and dict, When building a card, Then each becomes
    {text, value}."""
    msg = card("Which one?", [Button(text="A", value="a"), "B", ("C", "c"), {"text": "D", "value": "d"}],
               subtitle="Pick a charge")
    c = msg.model_dump(by_alias=True, exclude_none=True)["imageResponseCard"]
    assert c["buttons"] == [{"text": "A", "value": "a"}, {"text": "B", "value": "B"},
                            {"text": "C", "value": "c"}, {"text": "D", "value": "d"}]
    assert c["subtitle"] == "Pick a charge"
    assert msg.content_type == "ImageResponseCard"


def test_card_is_trimmed_to_lex_limits(event, response_validator):
    """Given a card with 7 buttons and over-long title and labels, When serialised, Then 5 buttons
    remain and every field is within Lex's length limits."""
    msg = card("T" * 300, [(f"{i}" * 60, f"v{i}" * 40) for i in range(7)], subtitle="s" * 300)
    wire = elicit_slot(event, "Reason", msg).to_dict()
    response_validator.validate(wire)
    c = wire["messages"][0]["imageResponseCard"]
    assert len(c["buttons"]) == 5
    assert len(c["title"]) == 250 and len(c["subtitle"]) == 250
    assert all(len(b["text"]) <= 50 and len(b["value"]) <= 50 for b in c["buttons"])
    assert [b["text"][0] for b in c["buttons"]] == ["0", "1", "2", "3", "4"]  # first five kept, in order


def test_message_bodies_are_required():
    """Given a card message without a card or a text message without content, Then it is refused."""
    with pytest.raises(ValidationError):
        Message(content_type="ImageResponseCard", content="x")
    with pytest.raises(ValidationError):
        text("")
    with pytest.raises(ValidationError):
        Message(content_type="PlainText", content="x", colour="red")  # misspelt fields are bugs


def test_long_message_is_clipped(event):
    """Given a 5 000-character message, When serialised, Then it is cut to 1 000 characters
    ending with an ellipsis."""
    content = elicit_slot(event, "Reason", "x" * 5000).to_dict()["messages"][0]["content"]
    assert len(content) == 1000
    assert content.endswith("\u2026")


def test_response_size_is_bounded(event, response_validator):
    """Given 80 long non-ASCII messages and bulky request attributes, When serialised, Then the
    response is at most 50 KB, still valid, and keeps the first message."""
    msgs = [f"{i} " + "\u4e2d" * 999 for i in range(80)]
    resp = close(event, "Fulfilled", msgs, request_attributes={f"k{i}": "v" * 900 for i in range(40)})
    wire = resp.to_dict()
    size = len(json.dumps(wire, ensure_ascii=False, separators=(",", ":")).encode())
    assert size <= RESPONSE_MAX_BYTES
    assert wire["messages"][0]["content"].startswith("0 ")
    assert len(wire["messages"]) < 80
    response_validator.validate(wire)


def test_session_attributes_over_limit_raise(event):
    """Given session attributes over 12 KB, When serialised, Then a clear LexResponseError is
    raised instead of silently dropping conversation state."""
    big = {"history": "x" * (SESSION_ATTRIBUTES_MAX_BYTES + 1)}
    with pytest.raises(LexResponseError, match="session attributes"):
        delegate(event, big).to_dict()


def test_session_attributes_just_under_limit_pass(event):
    """Given session attributes just under 12 KB, When serialised, Then they are sent unchanged."""
    overhead = len(json.dumps({"h": ""}, separators=(",", ":")))
    attrs = {"h": "x" * (SESSION_ATTRIBUTES_MAX_BYTES - overhead)}
    assert delegate(event, attrs).to_dict()["sessionState"]["sessionAttributes"] == attrs


def test_fit_leaves_small_responses_alone(event):
    """Given a small response, When fitted, Then nothing changes."""
    resp = close(event, "Fulfilled", ["one", "two"], request_attributes={"a": "b"})
    assert resp.fit() == resp
