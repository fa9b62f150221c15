"""The local web chat served by `make run` (Chalice routes, through Chalice's test client)."""
from __future__ import annotations

import json

import pytest
from chalice.test import Client

from tests.world import World


@pytest.fixture
def client(tmp_path, monkeypatch):
    import app as app_module
    from chalicelib.core.settings import get_settings
    from chatbot.bootstrap import Container
    from chatbot.emulator import LexEmulator
    from chatbot.webchat import WebChat
    from intents.registry import all_specs

    world = World(tmp_path)

    def factory(customer):
        return LexEmulator(world.hook, all_specs(), request_attributes=world.token(customer) if customer else {},
                           today=lambda: world.now, use_classifier=False)

    monkeypatch.setenv("DA_LOCAL_CHANNEL", "1")
    get_settings.cache_clear()
    monkeypatch.setattr(app_module, "root", Container(world.settings, webchat=WebChat(factory, world.services)))
    with Client(app_module.app) as c:
        yield c
    get_settings.cache_clear()


def _post(client, body):
    return client.http.post("/api/chat", headers={"Content-Type": "application/json"}, body=json.dumps(body))


def test_page_is_served(client):
    """Given local mode, When the chat page is requested, Then HTML with the chat form comes back."""
    resp = client.http.get("/chat")
    assert resp.status_code == 200
    assert b"<form" in resp.body and b"api/chat" in resp.body


def test_conversation_keeps_its_session(client):
    """Given a signed-in demo customer, When two messages are posted with the returned session id,
    Then the second continues the first conversation."""
    first = json.loads(_post(client, {"text": "show me the blue bottle charge", "customer": "demo-bob"}).body)
    assert first["turn"]["slot_to_elicit"] == "TransactionChoice"
    second = json.loads(_post(client, {"text": "1", "customer": "demo-bob", "session_id": first["session_id"]}).body)
    assert second["session_id"] == first["session_id"]
    assert "Blue Bottle" in " ".join(second["turn"]["bot"])


def test_step_up_shows_the_local_code(client):
    """Given an anonymous visitor, When step-up sends a code, Then the response carries the local
    out-of-band code for the console panel."""
    sid = None
    for text in ["check my dispute", "4242", "12 April 1988"]:
        body = json.loads(_post(client, {"text": text, "session_id": sid}).body)
        sid = body["session_id"]
    assert body["otp"] and len(body["otp"]) == 6
    done = json.loads(_post(client, {"text": body["otp"], "session_id": sid}).body)
    assert "DSP-ALICE1" in " ".join(done["turn"]["bot"])


@pytest.mark.parametrize("body,status", [
    ({"text": 5}, 400), ({}, 400), ({"text": "x" * 6000}, 413), ({"text": "hi", "customer": "../etc"}, 400),
    ({"text": "hi", "session_id": "bad id!"}, 400), (["not", "an", "object"], 400),
])
def test_bad_requests_get_clear_errors(client, body, status):
    """Given malformed chat requests, When posted, Then a 4xx with a clear error comes back."""
    resp = _post(client, body)
    assert resp.status_code == status
    assert "error" in json.loads(resp.body) or "Message" in json.loads(resp.body)


def test_chat_is_not_served_outside_local_mode(tmp_path, monkeypatch):
    """Given a deployment without the local channel, When /chat or /api/chat is called, Then 404:
    nobody can mint an identity through the demo page in AWS."""
    import app as app_module
    from chalicelib.core.settings import get_settings

    monkeypatch.delenv("DA_LOCAL_CHANNEL", raising=False)
    get_settings.cache_clear()
    with Client(app_module.app) as c:
        assert c.http.get("/chat").status_code == 404
        assert _post(c, {"text": "hi", "customer": "demo-alice"}).status_code == 404
    get_settings.cache_clear()


def test_a_typed_card_number_never_comes_back_in_the_page_json(client):
    """Given a customer typing card numbers (grouped with NBSP, wrapped, fullwidth) into the web chat,
    When each turn's JSON comes back, Then neither the echoed customer text nor the bot's reply
    carries one, and the bot asks for the last 4 instead."""
    from chalicelib.core.pci import find_sensitive

    sid = None
    for text in ("I want to dispute a payment", "4111\u00a01111\u00a01111\u00a01111",
                 "5500 0000\n0000 0004 was charged", "２２２１０００００００００００００９"):
        body = json.loads(_post(client, {"text": text, "customer": "demo-alice", "session_id": sid}).body)
        sid = body["session_id"]
        raw = json.dumps(body, ensure_ascii=False)
        assert not find_sensitive(json.dumps(body["turn"], ensure_ascii=False)), raw
        if text != "I want to dispute a payment":
            assert "never share a full card number" in " ".join(body["turn"]["bot"]), raw


def _open(client, body):
    return client.http.post("/api/chat/open", headers={"Content-Type": "application/json"}, body=json.dumps(body))


def test_a_signed_in_customer_with_a_held_payment_is_told_when_the_chat_opens(client):
    """Given demo-alice signed in (her Best Buy payment is held), When the page opens the chat,
    Then the assistant asks about it first and her answer continues that session."""
    opened = json.loads(_open(client, {"customer": "demo-alice"}).body)
    assert "Best Buy" in " ".join(opened["turn"]["bot"]) and opened["turn"]["slot_to_elicit"] == "ReleaseHold"
    assert opened["turn"]["user"] in ("", None)
    answer = json.loads(_post(client, {"text": "no it wasn't me", "customer": "demo-alice",
                                       "session_id": opened["session_id"]}).body)
    assert answer["session_id"] == opened["session_id"] and answer["turn"]["intent"] == "ExplainHold"
    # And opening again never asks about Best Buy twice (her declined Shell payment comes next)
    again = json.loads(_open(client, {"customer": "demo-alice"}).body)
    assert "Best Buy" not in " ".join(again["turn"]["bot"]) and again["session_id"] != opened["session_id"]


def test_a_customer_with_nothing_held_opens_to_the_greeting_alone(client):
    """Given demo-bob with no held payment, When the page opens the chat, Then nothing is said and no
    session is kept (his first message starts the conversation as before)."""
    assert json.loads(_open(client, {"customer": "demo-bob"}).body) == {"session_id": None, "turn": None, "otp": None}


@pytest.mark.parametrize("body", [{}, {"customer": None}, {"customer": "../x"}, []])
def test_an_opening_without_a_signed_in_customer_is_refused(client, body):
    """Given no or a malformed customer, When the opening is posted, Then 400 with a clear error."""
    resp = _open(client, body)
    assert resp.status_code == 400 and "customer" in json.loads(resp.body)["error"]
