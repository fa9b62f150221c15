"""The Comprehend tier: called only when it pays, only with redacted text, never failing triage.

Responses are the documented Comprehend shapes from ``../shared/data/comprehend/`` served by a
botocore ``Stubber`` on a real client (moto's Comprehend is canned). Timeouts are raised by a
``before-send`` hook on a real client, the way botocore itself raises them.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.exceptions import ReadTimeoutError
from botocore.stub import Stubber

from chalicelib.governance.cost import CircuitBreaker, CostMeter
from nlp.comprehend import (SENTIMENT_CHARS, ComprehendBudget, ComprehendTier, billed_units)
from nlp.patterns import scrub_pans
from nlp.triage import triage_text
from tests.support.comprehend import LANGUAGE, PAN, SENTIMENT, UNSURE_LONG


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 1, 10, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


def tier_for(client, **kw) -> ComprehendTier:
    kw.setdefault("meter", CostMeter(hourly_ceiling_usd=1.0))
    return ComprehendTier(client, **kw)


def test_billed_units_apply_the_three_unit_minimum():
    """Given Comprehend's price ($0.0001 per 100 characters, 3-unit minimum)
    When units are computed for 0, 1, 300, 301 and 500 characters
    Then short requests cost 3 units and longer ones round up per 100 characters."""
    assert [billed_units(n) for n in (0, 1, 300, 301, 500)] == [3, 3, 3, 4, 5]


def test_not_called_for_confident_english_low_stakes_message(client, stub):
    """Given a confident English dispute message with no large amount or legal threat
    When it is triaged with a Comprehend tier whose stub expects nothing
    Then no Comprehend call is made, tier_used is "local" and nothing is charged."""
    tier = tier_for(client)
    r = triage_text("I was charged twice for my Netflix subscription this month", comprehend=tier)
    assert r.intent == "transaction_charged_twice"
    assert r.tier_used == "local"
    assert r.cost_usd == 0.0
    assert tier.meter.usage() == {}


def test_called_when_unsure_and_sentiment_merged(client, stub):
    """Given a message the local classifier is unsure about (long, vague)
    When it is triaged with a stubbed DetectSentiment returning POSITIVE
    Then Comprehend's sentiment replaces the local one, the request carries at most 500
    characters, and the cost is 5 units ($0.0005)."""
    stub.add_response("detect_sentiment", SENTIMENT,
                      {"Text": UNSURE_LONG.strip()[:SENTIMENT_CHARS], "LanguageCode": "en"})
    r = triage_text(UNSURE_LONG, comprehend=tier_for(client))
    assert r.intent == "unsure"
    assert r.tier_used == "comprehend"
    assert r.sentiment == "POSITIVE"
    assert r.sentiment_scores["Positive"] == pytest.approx(SENTIMENT["SentimentScore"]["Positive"])
    assert r.cost_usd == pytest.approx(0.0005)


def test_language_detected_when_local_guess_is_uncertain(client, stub):
    """Given a short Latin-script text the local guesser cannot place confidently
    When it is triaged
    Then DetectDominantLanguage is asked first and its answer (en, 0.98) replaces the local
    guess, then DetectSentiment runs in that language; 3 + 3 units are billed."""
    text = "Netflix refund??"
    stub.add_response("detect_dominant_language", LANGUAGE, {"Text": text})
    stub.add_response("detect_sentiment", SENTIMENT, {"Text": text, "LanguageCode": "en"})
    r = triage_text(text, comprehend=tier_for(client))
    assert "language_uncertain" in r.escalation_reasons
    assert (r.language, r.language_confidence) == ("en", pytest.approx(0.9877, abs=1e-4))
    assert r.tier_used == "comprehend"
    assert r.cost_usd == pytest.approx(0.0006)


def test_non_english_text_escalates_with_its_language_code(client, stub):
    """Given a confident Spanish complaint
    When it is triaged
    Then DetectSentiment is called with LanguageCode "es" (no language call is needed)."""
    text = "Me cobraron dos veces en la tarjeta y quiero mi dinero de vuelta"
    stub.add_response("detect_sentiment", {"Sentiment": "NEGATIVE", "SentimentScore": {
        "Positive": 0.01, "Negative": 0.95, "Neutral": 0.03, "Mixed": 0.01}}, {"Text": text, "LanguageCode": "es"})
    r = triage_text(text, comprehend=tier_for(client))
    assert r.language == "es" and "non_english" in r.escalation_reasons
    assert (r.sentiment, r.tier_used) == ("NEGATIVE", "comprehend")


def test_high_stakes_escalates_and_pan_never_reaches_comprehend(client):
    """Given a confident English message with a legal threat, a large amount and a Luhn-valid PAN
    When it is triaged with a stubbed client that records every request's Text
    Then Comprehend is called (high stakes), sees only the redacted text with the card's last 4,
    and never any Luhn-valid digit run."""
    sent: list[str] = []
    client.meta.events.register("provide-client-params.comprehend.*",
                                lambda params, **kw: sent.append(params.get("Text", "")))
    text = f"I was charged twice, $2,400 on card {PAN}. My lawyer will sue you."
    with Stubber(client) as stub:
        stub.add_response("detect_sentiment", SENTIMENT)
        r = triage_text(text, comprehend=tier_for(client))
    assert {"legal_threat", "large_amount"} <= set(r.escalation_reasons)
    assert r.tier_used == "comprehend"
    assert len(sent) == 1 and len(sent[0]) <= SENTIMENT_CHARS
    assert "[CARD ****6467]" in sent[0]
    assert scrub_pans(sent[0])[1] == 0 and "4539" not in sent[0]


@pytest.mark.parametrize("code", ["ThrottlingException", "TooManyRequestsException"])
def test_throttling_leaves_local_result(client, stub, code):
    """Given Comprehend answers with a throttling error
    When an unsure message is triaged
    Then the local sentiment stands, tier_used is local:comprehend_throttled and no cost is attributed."""
    stub.add_client_error("detect_sentiment", service_error_code=code, http_status_code=400)
    local = triage_text(UNSURE_LONG)
    r = triage_text(UNSURE_LONG, comprehend=tier_for(client))
    assert r.tier_used == "local:comprehend_throttled"
    assert (r.sentiment, r.sentiment_scores) == (local.sentiment, local.sentiment_scores)
    assert r.cost_usd == 0.0


def test_other_client_error_leaves_local_result(client, stub):
    """Given Comprehend answers with a non-throttling client error (e.g. TextSizeLimitExceeded)
    When an unsure message is triaged
    Then tier_used is local:comprehend_error and the local sentiment stands."""
    stub.add_client_error("detect_sentiment", service_error_code="TextSizeLimitExceededException",
                          http_status_code=400)
    r = triage_text(UNSURE_LONG, comprehend=tier_for(client))
    assert r.tier_used == "local:comprehend_error"
    assert r.sentiment == triage_text(UNSURE_LONG).sentiment


def test_read_timeout_leaves_local_result_and_counts_as_billed(client):
    """Given a real client whose HTTP send raises ReadTimeoutError
    When an unsure message is triaged
    Then tier_used is local:comprehend_timeout, the local sentiment stands, and the call's
    5 units are attributed (the request may have been processed)."""
    def boom(**kw):
        raise ReadTimeoutError(endpoint_url="https://comprehend.us-east-1.amazonaws.com")

    client.meta.events.register("before-send.comprehend.DetectSentiment", boom)
    r = triage_text(UNSURE_LONG, comprehend=tier_for(client))
    assert r.tier_used == "local:comprehend_timeout"
    assert r.sentiment == triage_text(UNSURE_LONG).sentiment
    assert r.cost_usd == pytest.approx(0.0005)


def test_timeout_after_language_discards_partial_comprehend_view():
    """Given a client whose DetectDominantLanguage answers "de" but whose DetectSentiment times out
    When an uncertain-language message is triaged
    Then the whole result stays local (the language too) and both calls' units are attributed."""
    calls: list[str] = []

    class Client:
        def detect_dominant_language(self, **kw):
            calls.append("lang")
            return {"Languages": [{"LanguageCode": "de", "Score": 0.9}]}

        def detect_sentiment(self, **kw):
            calls.append("sent")
            raise ReadTimeoutError(endpoint_url="https://comprehend.us-east-1.amazonaws.com")

    r = triage_text("Netflix refund??", comprehend=tier_for(Client()))
    assert calls == ["lang", "sent"]
    assert r.tier_used == "local:comprehend_timeout"
    assert r.language == "en"  # the local guess, not Comprehend's "de"
    assert r.cost_usd == pytest.approx(0.0006)


def test_per_message_budget_exhausted(client, stub):
    """Given a per-message budget of 4 units and a 500-character request costing 5
    When an unsure message is triaged (the stub expects no call)
    Then Comprehend is not called and tier_used is local:comprehend_budget_exhausted."""
    tier = tier_for(client, budget=ComprehendBudget(units_per_message=4, units_per_hour=1000))
    r = triage_text(UNSURE_LONG, comprehend=tier)
    assert r.tier_used == "local:comprehend_budget_exhausted"
    assert r.cost_usd == 0.0


def test_per_hour_unit_budget_exhausted_then_renewed_next_hour(client, stub):
    """Given an hourly budget of 8 units and unsure messages costing 5 units each
    When three are triaged in one hour and one more in the next hour
    Then the first is sent, the second is refused (5 + 5 > 8), and the next hour's is sent again."""
    clock = Clock()
    tier = tier_for(client, meter=CostMeter(hourly_ceiling_usd=10.0, clock=clock),
                    budget=ComprehendBudget(units_per_message=10, units_per_hour=8))
    stub.add_response("detect_sentiment", SENTIMENT)
    assert triage_text(UNSURE_LONG, comprehend=tier).tier_used == "comprehend"
    assert triage_text(UNSURE_LONG, comprehend=tier).tier_used == "local:comprehend_budget_exhausted"
    clock.now += timedelta(hours=1)
    stub.add_response("detect_sentiment", SENTIMENT)
    assert triage_text(UNSURE_LONG, comprehend=tier).tier_used == "comprehend"


def test_meter_usd_ceiling_refuses_calls(client, stub):
    """Given the governance meter's hourly ceiling of $0.0007 (7 units)
    When two 5-unit requests are attempted in the same hour
    Then the second is refused by the meter and the result says budget exhausted; the meter
    attributes the first call's cost to its decision id."""
    meter = CostMeter(hourly_ceiling_usd=0.0007, clock=Clock())
    tier = tier_for(client, meter=meter)
    stub.add_response("detect_sentiment", SENTIMENT)
    first = triage_text(UNSURE_LONG, id="m1", comprehend=tier)
    second = triage_text(UNSURE_LONG, id="m2", comprehend=tier)
    assert (first.tier_used, second.tier_used) == ("comprehend", "local:comprehend_budget_exhausted")
    assert meter.cost_for("m1") == pytest.approx(0.0005)
    assert meter.cost_for("m2") == 0.0


def test_open_breaker_skips_comprehend(client, stub):
    """Given a circuit breaker that has tripped on errors
    When an unsure message is triaged (the stub expects no call)
    Then tier_used is local:breaker_open and nothing is charged."""
    breaker = CircuitBreaker("comprehend", min_calls=1, error_rate=0.5, cooldown_s=60)
    breaker.record_failure(10)
    assert breaker.state == "open"
    r = triage_text(UNSURE_LONG, comprehend=tier_for(client, breaker=breaker))
    assert r.tier_used == "local:breaker_open"
    assert r.cost_usd == 0.0


def test_failures_trip_the_breaker(client, stub):
    """Given a breaker that opens after 2 failed calls
    When two unsure messages are throttled and a third is triaged
    Then the third never reaches Comprehend: tier_used is local:breaker_open."""
    breaker = CircuitBreaker("comprehend", min_calls=2, error_rate=0.5, cooldown_s=60)
    tier = tier_for(client, breaker=breaker)
    for _ in range(2):
        stub.add_client_error("detect_sentiment", service_error_code="ThrottlingException", http_status_code=400)
        assert triage_text(UNSURE_LONG, comprehend=tier).tier_used == "local:comprehend_throttled"
    assert triage_text(UNSURE_LONG, comprehend=tier).tier_used == "local:breaker_open"


def test_from_settings_disabled_or_without_credentials_returns_none(monkeypatch):
    """Given settings with comprehend_enabled false, then true but a session without credentials
    When the tier is built from settings
    Then no tier exists in both cases (callers report local:comprehend_disabled)."""
    from chalicelib.core.settings import Settings

    assert ComprehendTier.from_settings(Settings(comprehend_enabled=False)) is None

    class NoCreds:
        def get_credentials(self):
            return None

    assert ComprehendTier.from_settings(Settings(comprehend_enabled=True), session=NoCreds()) is None


def test_from_settings_builds_client_with_timeouts_and_bounded_retries():
    """Given settings enabling Comprehend and a session with credentials
    When the tier is built
    Then its client has connect/read timeouts equal to the dependency timeout and bounded retries."""
    from chalicelib.core.settings import Settings

    session = boto3.session.Session(aws_access_key_id="a", aws_secret_access_key="b", region_name="eu-west-1")
    tier = ComprehendTier.from_settings(Settings(comprehend_enabled=True, dependency_timeout_s=1.5),
                                        session=session, meter=CostMeter(1.0))
    cfg = tier.client.meta.config
    assert (cfg.connect_timeout, cfg.read_timeout) == (1.5, 1.5)
    assert cfg.retries["total_max_attempts"] == 3  # botocore: 2 retries after the first attempt
    assert tier.client.meta.region_name == "us-east-1"


def test_no_tier_means_comprehend_disabled():
    """Given no Comprehend tier (no AWS configuration)
    When an unsure message is triaged
    Then the local result is returned with tier_used local:comprehend_disabled."""
    assert triage_text(UNSURE_LONG).tier_used == "local:comprehend_disabled"
