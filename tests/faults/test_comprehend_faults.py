"""Amazon Comprehend failing: throttled, timing out, answering 5xx, all the time or now and then.

Why: Comprehend is the paid second opinion on unsure or high-stakes text, never a dependency the
customer or an email waits on. Under any fault every message must still get the local answer,
exactly the one it gets with no Comprehend at all (a deterministic fallback), the chat must answer
within its budget, an email must still end as a stored record, and what Comprehend was sent must
never hold a card number, whatever it was asked before the fault.
"""
from __future__ import annotations

import random
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError
from botocore.stub import Stubber

from chalicelib.core.pci import find_sensitive
from chalicelib.governance.cost import CostMeter
from nlp.comprehend import TIER_COMPREHEND, TIER_ERROR, TIER_LOCAL, TIER_THROTTLED, TIER_TIMEOUT, ComprehendTier
from nlp.triage import triage_text
from tests.support.comprehend import PAN, SENTIMENT, UNSURE_LONG, make_client

MESSAGES = [UNSURE_LONG, f"{UNSURE_LONG} My card {PAN} was used.", "Etwas Seltsames ist mit meiner Karte passiert.",
            f"{UNSURE_LONG} I will take legal action over this charge of 4,500 pounds."]
FAULTS = {  # name -> how the Stubber answers (code, HTTP status)
    "throttled": ("ThrottlingException", 400),
    "too_many_requests": ("TooManyRequestsException", 400),
    "internal_error_500": ("InternalServerException", 500),
    "unavailable_503": ("ServiceUnavailableException", 503),
}
LOCAL_FIELDS = ("category", "intent", "sentiment", "language", "urgency", "redacted_text")


def capture_requests(client) -> list[dict[str, Any]]:
    """Every request's parameters, as the client was asked to send them (before any stub answers)."""
    sent: list[dict[str, Any]] = []
    client.meta.events.register("provide-client-params.comprehend.*", lambda params, **kw: sent.append(dict(params)))
    return sent


def local(text: str):
    return triage_text(text, id="m")


def same_as_local(result, text: str) -> bool:
    expected = local(text)
    return all(getattr(result, f) == getattr(expected, f) for f in LOCAL_FIELDS)


class Schedule:
    """What Comprehend does on each call: ``ok``, a fault name, or ``timeout``; each call's answer
    is queued on the Stubber as the call starts, so intermittent faults follow a fixed sequence
    whichever calls the tier decides to make."""

    def __init__(self, client, stub: Stubber, plan: list[str]):
        self.plan, self.stub, self.i = list(plan), stub, 0
        client.meta.events.register("provide-client-params.comprehend.*", self._queue)

    def _queue(self, params, model, **kw) -> None:
        step = self.plan[self.i % len(self.plan)]
        self.i += 1
        method = {"DetectSentiment": "detect_sentiment", "DetectDominantLanguage": "detect_dominant_language"}[model.name]
        if step == "ok":
            body = SENTIMENT if model.name == "DetectSentiment" else {"Languages": [{"LanguageCode": "de", "Score": 0.99}]}
            self.stub.add_response(method, body)
        elif step == "timeout":  # raised as botocore raises it when the read times out
            raise ReadTimeoutError(endpoint_url="https://comprehend.us-east-1.amazonaws.com")
        else:
            code, status = FAULTS[step]
            self.stub.add_client_error(method, service_error_code=code, http_status_code=status)


def run(plan: list[str], texts: list[str]):
    client = make_client()
    sent = capture_requests(client)
    tier = ComprehendTier(client, meter=CostMeter(hourly_ceiling_usd=100.0))
    with Stubber(client) as stub:
        Schedule(client, stub, plan)
        results = [triage_text(t, id=f"m{i}", comprehend=tier) for i, t in enumerate(texts)]
        stub.assert_no_pending_responses()
    return results, sent


@pytest.mark.parametrize("fault", [*FAULTS, "timeout"])
def test_every_call_failing_leaves_every_message_its_local_answer(fault):
    """Given Comprehend failing every call with ``fault`` / When unsure, non-English and high-stakes
    messages are triaged / Then each one is answered locally (tier ``local:*``), field for field
    the answer it gets with no Comprehend at all, and no request held a card number."""
    results, sent = run([fault], MESSAGES * 2)
    assert sent, "the fault was never exercised: no message escalated"
    expected = {"throttled": TIER_THROTTLED, "too_many_requests": TIER_THROTTLED, "timeout": TIER_TIMEOUT}.get(fault, TIER_ERROR)
    for text, result in zip(MESSAGES * 2, results):
        assert result.tier_used in (expected, TIER_LOCAL), result.tier_used
        assert same_as_local(result, text), text[:40]
    assert not [p for p in sent if find_sensitive(p["Text"])]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_intermittent_faults_give_each_message_comprehend_or_the_local_answer(seed):
    """Given Comprehend answering, throttling, timing out and failing 5xx in a seeded random
    sequence / When 24 messages are triaged / Then none raises; each is either Comprehend's view
    (``comprehend``) or exactly its local answer; the same sequence gives the same results."""
    rng = random.Random(seed)
    plan = [rng.choice(["ok", "ok", "timeout", *FAULTS]) for _ in range(40)]
    texts = [rng.choice(MESSAGES) for _ in range(24)]
    results, sent = run(plan, texts)
    tiers = {r.tier_used for r in results}
    assert TIER_COMPREHEND in tiers and any(t.startswith("local:") for t in tiers), tiers
    for text, result in zip(texts, results):
        if result.tier_used != TIER_COMPREHEND:
            assert same_as_local(result, text)
    assert not [p for p in sent if find_sensitive(p["Text"])]
    again, _ = run(plan, texts)
    assert [r.tier_used for r in again] == [r.tier_used for r in results]


def failing_tier(fault: str = "throttled") -> tuple[ComprehendTier, list]:
    """A tier whose every call fails with ``fault`` (kept active for the caller's whole test)."""
    client = make_client()
    sent = capture_requests(client)
    stub = Stubber(client)
    stub.activate()
    Schedule(client, stub, [fault])
    return ComprehendTier(client, meter=CostMeter(hourly_ceiling_usd=100.0)), sent


@pytest.mark.parametrize("fault", ["timeout", "internal_error_500"])
def test_the_chat_fallback_answers_the_same_within_its_budget_when_comprehend_fails(tmp_path, fault):
    """Given two containers, one whose Comprehend fails every call and one with none / When the
    same unsure messages reach the fallback / Then both answer the same words, and neither says
    the turn ran past its budget."""
    from chalicelib.core.settings import Settings
    from chalicelib.demo.demo_data import seed
    from chalicelib.storage.sqlite import SqliteStore
    from chatbot.bootstrap import Container
    from chatbot.hook import handle_lex_event
    from intents.replies import render
    from tests.lex_events import make_lex_event
    from tests.world import ANCHOR, NOW

    def chat(name: str, tier):
        settings = Settings(sqlite_path=tmp_path / f"{name}.db", outbox_dir=tmp_path / name,
                            otp_outbox_path=tmp_path / f"{name}.log")
        store = SqliteStore(settings.sqlite_path)
        store.create_schema()
        seed(store, anchor=ANCHOR)
        services, resolver = Container(settings, clock=lambda: NOW, store=store, comprehend_tier=tier).get("chat")
        said = []
        for i, text in enumerate(MESSAGES):
            ev = make_lex_event(intent="FallbackIntent", transcript=text, session_id=f"fault-{i}")
            said.append([m.get("content") for m in handle_lex_event(ev, services, resolver, budget_s=8.0)["messages"]])
        return said

    tier, sent = failing_tier(fault)
    with_faults, without = chat("faulty", tier), chat("plain", None)
    assert with_faults == without
    apologies = {render("error_timeout"), render("error_bad_event")}
    assert not [turn for turn in with_faults if apologies & set(turn)]
    assert sent, "the fallback never asked Comprehend: the fault was not exercised"
    assert not [p for p in sent if find_sensitive(p["Text"])]

