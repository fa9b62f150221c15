"""Scorers: rules reasons, model adapters on their wire formats (botocore Stubber), fallbacks,
selective invocation, and a risky authorisation acted on."""
from __future__ import annotations

import io
import json
from datetime import date

import boto3
import pytest
from botocore.exceptions import ReadTimeoutError, ConnectTimeoutError
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from chalicelib.governance.cost import CircuitBreaker, CostMeter, DEFAULT_PRICES
from chalicelib.fraud.adapters import (FraudDetectorScorer, GuardedModelScorer, SageMakerScorer, model_prices)
from chalicelib.fraud.generator import generate_day, kinesis_records
from chalicelib.fraud.scoring import RulesEngine, ScoringContext, SelectiveScorer
from chalicelib.core.models import Transaction, TxnStatus

from .conftest import ANCHOR, DAY


@pytest.fixture
def creds(aws_env):
    """Fake credentials (the suite-wide ``aws_env``) under the name these tests use."""


def risky_ctx(world) -> ScoringContext:
    history = tuple(world.store.transactions.list_for_customer("demo-alice"))
    base = history[0]
    txn = Transaction(txn_id="txn-risky", customer_id="demo-alice", card_id="card-alice-1", card_last4="4242",
                      descriptor="COINBASE.COM", merchant_name="Coinbase", mcc="6051", amount_minor=184900,
                      status=TxnStatus.pending, occurred_at=base.occurred_at, country="RO", channel="ecommerce")
    return ScoringContext(txn, history, event_id="evt_risky0001")


def test_rules_explain_a_risky_payment_with_catalogue_codes(world):
    a = RulesEngine().score(risky_ctx(world))
    assert set(a.reason_codes) == {"UNUSUAL_AMOUNT", "FOREIGN_LOCATION", "NEW_MERCHANT_HIGH_RISK"}
    assert a.score > 0.6


def sm_body(doc) -> StreamingBody:
    raw = json.dumps(doc).encode()
    return StreamingBody(io.BytesIO(raw), len(raw))


def test_sagemaker_invoke_endpoint_request_and_score(world, creds):
    client = boto3.client("sagemaker-runtime", region_name="us-east-1")
    scorer = SageMakerScorer(client, "da-fraud-scorer", RulesEngine())
    with Stubber(client) as stub:
        stub.add_response("invoke_endpoint", {"Body": sm_body({"predictions": [{"score": 0.91}]}),
                                              "ContentType": "application/json", "InvokedProductionVariant": "v2"},
                          {"EndpointName": "da-fraud-scorer", "ContentType": "application/json",
                           "Accept": "application/json", "Body": ANY})
        a = scorer.score(risky_ctx(world))
    assert a.score == 0.91 and a.version == "da-fraud-scorer/v2"


def test_fraud_detector_get_event_prediction_shapes(world, creds):
    client = boto3.client("frauddetector", region_name="us-east-1")
    scorer = FraudDetectorScorer(client, "da_card_fraud", "card_authorisation", RulesEngine())
    ctx = risky_ctx(world)
    req = scorer.request(ctx)
    assert all(isinstance(v, str) for v in req["eventVariables"].values())
    with Stubber(client) as stub:
        stub.add_response("get_event_prediction", {
            "modelScores": [{"modelVersion": {"modelId": "card_fraud", "modelType": "ONLINE_FRAUD_INSIGHTS",
                                              "modelVersionNumber": "1.0"}, "scores": {"card_fraud_insightscore": 870.0}}],
            "ruleResults": [{"ruleId": "high_risk", "outcomes": ["review"]}],
        }, req)
        a = scorer.score(ctx)
    assert a.score == pytest.approx(0.87) and a.version == "card_fraud/1.0" and a.details == {"outcome:review": 1.0}


@pytest.mark.parametrize("error", ["ThrottlingException", "timeout", "connect_timeout"])
def test_throttling_and_timeouts_fall_back_to_the_rules(world, creds, error):
    # Given a Fraud Detector that throttles or times out, behind the guard
    client = boto3.client("frauddetector", region_name="us-east-1")
    rules = RulesEngine()
    guarded = GuardedModelScorer(FraudDetectorScorer(client, "d", "e", rules), rules, CircuitBreaker("t", min_calls=2))
    ctx = risky_ctx(world)
    if error == "ThrottlingException":
        stub = Stubber(client)
        stub.add_client_error("get_event_prediction", service_error_code="ThrottlingException", http_status_code=400)
        stub.activate()
    else:
        def boom(**kw):
            cls = ReadTimeoutError if error == "timeout" else ConnectTimeoutError
            raise cls(endpoint_url="https://frauddetector.us-east-1.amazonaws.com")
        client.meta.events.register("before-send.frauddetector.GetEventPrediction", boom)
    # When it scores
    a = guarded.score(ctx)
    # Then the rules' verdict comes back, marked with why
    assert a.scorer == "rules" and a.score == rules.score(ctx).score
    assert a.fallback_reason == ("throttled" if error == "ThrottlingException" else "timeout")


def test_an_open_breaker_skips_the_model(world):
    class Boom:
        name = "sagemaker"

        def score(self, ctx):
            raise AssertionError("called through an open breaker")

    breaker = CircuitBreaker("sm", min_calls=1)
    breaker.record_failure()
    a = GuardedModelScorer(Boom(), RulesEngine(), breaker).score(risky_ctx(world))
    assert a.fallback_reason == "breaker_open"


class FixedModel:
    name = "sagemaker"

    def __init__(self, score=0.95):
        self.n, self.value = 0, score

    def score(self, ctx):
        from chalicelib.fraud.scoring import RiskAssessment

        self.n += 1
        return RiskAssessment(self.value, (), "sagemaker", "m1")


def test_selective_invocation_calls_the_model_only_above_the_floor_and_measures_the_share(world):
    # Given the day's authorisations for both demo customers streamed with a model in shadow
    model = FixedModel()
    proc = world.processor()
    proc.on_authorisation.__self__.scorer.model = model
    proc.on_authorisation.__self__.scorer.api = "sagemaker:InvokeEndpoint"
    events = [e for c in ("demo-alice", "demo-bob") for e in generate_day(c, DAY, anchor=ANCHOR)]
    proc.handle_records(kinesis_records(events))
    scorer = proc.on_authorisation.__self__.scorer
    # Then the model ran only for payments the rules saw risk in, and most calls were saved
    assert scorer.model_calls == model.n >= 2
    assert scorer.share_saved >= 0.5
    print(f"selective invocation: {scorer.calls} scored, {scorer.model_calls} model calls, saved {scorer.share_saved:.0%}")


def test_the_hourly_ceiling_stops_model_calls(world):
    cost = CostMeter(0.0001, prices={**DEFAULT_PRICES, **model_prices()})
    model = FixedModel()
    s = SelectiveScorer(RulesEngine(), model, mode="shadow", floor=0.3, cost=cost, api="frauddetector:GetEventPrediction")
    v = s.score(risky_ctx(world))
    assert v.skipped == "budget" and model.n == 0


def test_shadow_never_acts_on_the_model_but_logs_it(world):
    # Given a model that says "safe" where the rules say "hold", in shadow
    s = SelectiveScorer(RulesEngine(), FixedModel(0.01), mode="shadow", floor=0.3)
    v = s.score(risky_ctx(world))
    assert v.acted_on.scorer == "rules" and v.model.score == 0.01
    # And in "on" the model's number is used with the rules' reasons
    on = SelectiveScorer(RulesEngine(), FixedModel(0.97), mode="on", floor=0.3).score(risky_ctx(world))
    assert on.acted_on.score == 0.97 and on.acted_on.reason_codes == v.rules.reason_codes


def test_a_risky_authorisation_is_held_recorded_and_the_customer_told(world):
    # Given alice's risky authorisation on the stream
    risky = [e for e in generate_day("demo-alice", DAY, anchor=ANCHOR) if e.txn_id.endswith("-risk")]
    # When it is processed (twice: a redelivery)
    proc = world.processor()
    proc.handle_records(kinesis_records(risky))
    proc.handle_records(kinesis_records(risky))
    # Then a hold FraudDecision exists for ExplainHold, with releasable codes
    fd = world.store.fraud.get_for_transaction("demo-alice", risky[0].txn_id)
    assert fd.action.value == "hold" and "step_up_verification" in fd.release_requirements
    assert world.store.transactions.get("demo-alice", risky[0].txn_id).status is TxnStatus.pending
    # And one masked SMS notice is in the outbox
    [notice] = world.outbox.glob("*.sms.json")
    body = json.loads(notice.read_text())
    assert "$1,849.00" in body["text"] and "Coinbase" in body["text"] and "4242" in body["text"]
    assert body["to"].startswith("*") and not any(ch.isdigit() for ch in body["to"][:-4])
    # And one decision in the log, the chain intact, and an EMF hold metric
    decisions = [d for d in world.log.iter_decisions() if d.action == "fraud_action"]
    assert len(decisions) == 1 and decisions[0].outcome == "hold" and decisions[0].subject["txn_id"] == risky[0].txn_id
    assert world.log.verify().ok
    assert any('"FraudHolds"' in line for line in world.emf)
