"""The code hook under bad input, faults and retries: always a valid Lex response, in time."""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import jsonschema
import pytest

from chalicelib.core.ids import session_key
from tests.lex_events import load_event, make_lex_event

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[1] / "events" / "amazon-lex-v2-lambda-integration-examples__LexCodeHookResponseSchema.json").read_text()
)


def _valid(resp: dict) -> dict:
    jsonschema.validate(resp, SCHEMA)
    assert len(json.dumps(resp).encode()) <= 50 * 1024
    assert len(json.dumps(resp["sessionState"].get("sessionAttributes", {})).encode()) <= 12 * 1024
    return resp


def _texts(resp: dict) -> str:
    return " ".join(m.get("content", "") for m in resp.get("messages", []))


@pytest.mark.parametrize("raw", [None, [], "not json", 42, {}, {"sessionId": "x"}, {"messageVersion": "1.0"}, b"\xff\xfe"])
def test_garbage_gets_a_valid_response(world, raw):
    """Given garbage instead of a Lex event, When the hook runs, Then it answers with a valid Lex
    response and a sensible message instead of raising."""
    resp = _valid(world.hook(raw))
    assert resp["sessionState"]["dialogAction"]["type"] == "ElicitIntent"
    assert "went wrong" in _texts(resp)


def test_lex_v1_event_is_rejected_clearly(world, caplog):
    """Given a genuine Lex V1 event, When it reaches the V2 hook, Then a valid response comes back and
    the log names the problem (lex_v1_event)."""
    resp = _valid(world.hook(load_event("aws-sam-cli__lex__LexOrderFlowers__v1_legacy.json")))
    assert "went wrong" in _texts(resp)
    assert any(getattr(r, "error_code", "") == "lex_v1_event" for r in caplog.records)


@pytest.mark.parametrize("name", ["aws-sam-cli__lex-v2__LexBookHotel.json", "amazon-lex-v2-helper__trade.json"])
def test_genuine_events_for_unknown_intents(world, name):
    """Given genuine V2 events for intents this bot does not have (BookHotel, trade), When the hook
    runs, Then the fallback answers with a valid response."""
    resp = _valid(world.hook(load_event(name)))
    assert resp["messages"]


@pytest.mark.parametrize("text", ["", "🙂🙂🙂", "我的卡被拒绝了", "Ma carte a été refusée", "x" * 10_000, "\u0000\u202e"])
def test_odd_transcripts(world, text):
    """Given empty, emoji, non-Latin, 10 KB or control-character transcripts, When the fallback runs,
    Then a valid response with a message comes back."""
    ev = make_lex_event(intent="FallbackIntent", slots={}, transcript=text, request_attributes=world.token("demo-alice"))
    resp = _valid(world.hook(ev))
    assert _texts(resp).strip()


def test_plain_customer_id_attribute_is_never_trusted(world):
    """Given an unauthenticated event that claims customerId=demo-alice in every attribute, When it
    asks for account data, Then the hook starts step-up verification and shows nothing."""
    ev = make_lex_event(intent="DisputeStatus", slots={"CaseId": None}, transcript="status of my dispute",
                        session_attributes={"customerId": "demo-alice", "customer_id": "demo-alice"},
                        request_attributes={"customerId": "demo-alice"})
    resp = _valid(world.hook(ev))
    assert resp["sessionState"]["intent"]["name"] == "VerifyIdentity"
    assert "DSP-ALICE1" not in _texts(resp)
    assert "customerId" not in resp["sessionState"]["sessionAttributes"]


def test_forged_token_is_not_trusted(world):
    """Given a token signed with another key, When it is presented, Then the customer is unverified."""
    from chalicelib.identity import StaticKeyProvider, TokenSigner

    forged = TokenSigner(StaticKeyProvider("another-key-" + "x" * 40)).mint("demo-alice")
    ev = make_lex_event(intent="DisputeStatus", slots={"CaseId": None}, request_attributes={world.token_attr: forged})
    resp = _valid(world.hook(ev))
    assert resp["sessionState"]["intent"]["name"] == "VerifyIdentity"


def test_other_customers_case_id_not_found(world):
    """Given Bob signed in, When he asks for Alice's case by its id, Then it is not found."""
    ev = make_lex_event(intent="DisputeStatus", slots={"CaseId": "DSP-ALICE1"}, request_attributes=world.token("demo-bob"))
    resp = _valid(world.hook(ev))
    assert "couldn't find" in _texts(resp) and "Netflix" not in _texts(resp)


def test_oversized_session_attributes_are_trimmed(world):
    """Given a client that sends 200 KB of session attributes, When the hook answers, Then unknown keys
    are dropped and the response stays within Lex's limits."""
    junk = {f"k{i}": "v" * 1000 for i in range(200)}
    junk["lastTxnId"] = "t" * 50_000
    ev = make_lex_event(intent="TalkToAgent", slots={}, transcript="agent", session_attributes=junk)
    resp = _valid(world.hook(ev))
    assert not any(k.startswith("k") for k in resp["sessionState"]["sessionAttributes"])


def test_hanging_dependency_still_answers_within_budget(world):
    """Given a store that hangs for 5 s, When a turn needs it, Then the customer gets the 'taking
    longer' message well within the budget instead of a blank."""
    release = threading.Event()

    class Hanging:
        def __getattr__(self, name):
            inner = getattr(world.store, name)

            class Repo:
                def __getattr__(self, method):
                    def call(*a, **k):
                        release.wait(5)
                        return getattr(inner, method)(*a, **k)
                    return call
            return Repo()

    world.services.store = Hanging()
    ev = make_lex_event(intent="DisputeStatus", slots={"CaseId": None}, request_attributes=world.token("demo-alice"))
    started = time.monotonic()
    try:
        resp = _valid(world.hook(ev, budget_s=0.5))
    finally:
        release.set()
    assert time.monotonic() - started < 3
    assert "taking longer" in _texts(resp)


def test_handler_crash_still_answers(world, monkeypatch):
    """Given a handler that raises, When the hook runs, Then the customer gets an apology, not a traceback."""
    import intents.dispute_status as ds

    monkeypatch.setattr(ds, "handle", lambda turn: 1 / 0)
    import intents.registry as reg

    monkeypatch.setitem(reg._MODULES, "DisputeStatus", ds)
    ev = make_lex_event(intent="DisputeStatus", slots={"CaseId": None}, request_attributes=world.token("demo-alice"))
    resp = _valid(world.hook(ev))
    assert "went wrong" in _texts(resp)


def test_fallback_redirects_clear_text(world):
    """Given Lex fell back on a clear request, When the fallback hook runs, Then it answers that request."""
    ev = make_lex_event(intent="FallbackIntent", slots={}, transcript="what's the status of my dispute",
                        request_attributes=world.token("demo-alice"))
    resp = _valid(world.hook(ev))
    assert resp["sessionState"]["intent"]["name"] == "DisputeStatus"
    assert "DSP-ALICE1" in _texts(resp)


def _fulfil_event(world, session_id="retry-1"):
    return make_lex_event(
        intent="FileDispute",
        slots={"TransactionRef": "txn-alice-unrec", "DisputeReason": "unauthorised", "DisputedAmount": None,
               "MerchantContacted": None, "Description": "not me", "Change": None},
        transcript="yes", source="FulfillmentCodeHook", confirmation_state="Confirmed", state="ReadyForFulfillment",
        request_attributes=world.token("demo-alice"), session_id=session_id)


def test_retried_fulfilment_creates_one_case_and_one_decision(world):
    """Given Lex retries the same fulfilment 3 times, When each reaches the hook, Then one case and one
    decision exist and every reply names the same case."""
    replies = [_texts(_valid(world.hook(_fulfil_event(world)))) for _ in range(3)]
    cases = [c for c in world.store.cases.list_for_customer("demo-alice") if c.txn_id == "txn-alice-unrec"]
    assert len(cases) == 1
    assert all(cases[0].case_id in r for r in replies)
    decisions = [d for d in world.services.governance.log.iter_decisions() if d.action == "file_dispute"]
    assert len(decisions) == 1
    assert world.services.governance.log.verify().ok


def test_a_retried_fulfilment_answers_what_the_first_delivery_did(world):
    """Given Lex delivers the same confirmed fulfilment again after it opened the case
    When the retry reaches the hook
    Then it gets the very reply of the first delivery ("filed", with the case), not "you already
    have a dispute" (which one a duplicate got used to depend on how fast the turn ran)."""
    first, again = (_texts(_valid(world.hook(_fulfil_event(world)))) for _ in range(2))
    assert again == first and "already" not in first


def test_a_new_request_after_the_retry_window_hears_it_is_already_disputed(world):
    """Given a filed dispute
    When the same payment is disputed again in a new conversation minutes later
    Then the customer hears the dispute already exists (the retry rule covers retries only)."""
    from datetime import timedelta

    filed = _texts(_valid(world.hook(_fulfil_event(world))))
    world.now = world.now + timedelta(minutes=5)
    later = _texts(_valid(world.hook(_fulfil_event(world, session_id="another-chat"))))
    assert later != filed and "already have a dispute" in later


def test_concurrent_duplicate_fulfilments_create_one_case(world):
    """Given 8 concurrent duplicates of one fulfilment, When they race, Then exactly one case exists."""
    results = []
    threads = [threading.Thread(target=lambda: results.append(world.hook(_fulfil_event(world, "race")))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8
    cases = [c for c in world.store.cases.list_for_customer("demo-alice") if c.txn_id == "txn-alice-unrec"]
    assert len(cases) == 1
    assert sum(1 for d in world.services.governance.log.iter_decisions() if d.action == "file_dispute") == 1


def test_turns_emit_containment_and_time_to_human_metrics(world, monkeypatch):
    """Given EMF metrics on, When a conversation starts and is later handed to a human, Then turn,
    containment and time-to-human metrics are emitted as EMF documents."""
    from datetime import timedelta

    import chalicelib.governance.metrics as metrics

    lines: list[str] = []
    monkeypatch.setattr(world.services, "metrics", metrics.GovernanceMetrics(enabled=True, sink=lines.append))
    em = world.emulator("demo-alice")
    em.send("what's the status of my dispute")
    world.now = world.now + timedelta(seconds=90)
    em.send("talk to an agent")
    docs = [json.loads(line) for line in lines]
    names = [n for d in docs for n in d if not n.startswith("_") and n not in ("service", "Intent", "Channel", "Reason", "Action", "Tier")]
    assert "Turns" in names and "ConversationContained" in names
    tth = [d["TimeToHumanEscalationSeconds"] for d in docs if "TimeToHumanEscalationSeconds" in d]
    assert tth and tth[-1] >= 90
    contained = [d["ConversationContained"] for d in docs if "ConversationContained" in d]
    assert contained[0] == 1 and contained[-1] == 0


@pytest.mark.parametrize("text,reason", [
    ("I am going to sue you and call my lawyer about this charge", "legal_threat"),
    ("I will complain to the CFPB about this bank", "regulator_mention"),
    ("my husband passed away and I can't afford rent, there is a charge I don't know", "vulnerable_customer"),
    ("Mi tarjeta fue rechazada en la tienda ayer y necesito ayuda", "unsupported_language"),
])
def test_fallback_sends_sensitive_or_foreign_text_to_a_human(world, text, reason):
    """Given Lex fell back on text with a legal threat, regulator mention, vulnerability marker or
    an unsupported language, When the fallback triages it, Then a human gets it with that reason."""
    ev = make_lex_event(intent="FallbackIntent", slots={}, transcript=text, request_attributes=world.token("demo-alice"),
                        session_id=f"sens-{reason}")
    resp = _valid(world.hook(ev))
    assert "HND-" in _texts(resp)
    handoffs = world.store.handoffs.list_for_session(session_key(f"sens-{reason}"))  # stored hashed
    assert [h.reason for h in handoffs] == [reason]
    assert handoffs[0].context["triage"]["urgency"] >= 0 and "lawyer" not in json.dumps(handoffs[0].context["triage"])


def test_fallback_redirects_with_the_classifier(world):
    """Given a paraphrase no sample utterance covers, When Lex falls back, Then the classifier's
    reading redirects it (here: a declined payment → ExplainHold)."""
    ev = make_lex_event(intent="FallbackIntent", slots={}, transcript="the store did not accept my card today",
                        request_attributes=world.token("demo-alice"))
    resp = _valid(world.hook(ev))
    assert resp["sessionState"]["intent"]["name"] in ("ExplainHold", "LookupTransaction")
