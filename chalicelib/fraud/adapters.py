"""Model scorers behind the same interface as the rules: SageMaker endpoints and Amazon Fraud Detector.

Both are wrapped by :class:`GuardedModelScorer`: per-call timeouts and bounded retries come from
the botocore client (``chalicelib.core.aws.client(..., timeout_s=..., max_attempts=...)``, standard
retry mode: throttling and timeouts are retried at most ``max_attempts - 1`` times), a
:class:`~chalicelib.governance.cost.CircuitBreaker` stops calling a failing or slow endpoint for a cool-down,
and on any failure the rules engine's assessment is returned with ``fallback_reason`` set, so a
payment is never left unscored and the caller can count fallbacks.

Wire formats (botocore service models are the reference):

- SageMaker Runtime ``InvokeEndpoint``: ``EndpointName``, ``ContentType``/``Accept``
  ``application/json``, ``Body`` our JSON ``{"features": {...}}``; the response ``Body`` is a
  streaming blob whose JSON we accept as ``{"score": x}``, ``{"predictions": [{"score": x}]}``,
  ``[x]`` or ``x`` (x in 0..1: the common shapes of XGBoost / sklearn serving containers).
- Fraud Detector ``GetEventPrediction``: ``detectorId``, ``detectorVersionId`` (optional),
  ``eventId``, ``eventTypeName``, ``entities`` ``[{"entityType", "entityId"}]``, ``eventTimestamp``
  (ISO 8601 text), ``eventVariables`` (map of string to string); the response's ``modelScores``
  is ``[{"modelVersion": {...}, "scores": {name: float 0..1000}}]`` and ``ruleResults``
  ``[{"ruleId", "outcomes": [...]}]``.
"""
from __future__ import annotations

import json
import time
from typing import Any, Callable

from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ReadTimeoutError

from chalicelib.governance.cost import CircuitBreaker, Price
from chalicelib.fraud.scoring import RiskAssessment, RiskScorer, RulesEngine, ScoringContext

# Per-request prices for the cost meter (merge into ``CostMeter(prices=...)``). Fraud Detector bills
# online predictions per call; a SageMaker endpoint bills instance time, attributed per call at a
# configured estimate.
FRAUDDETECTOR_API = "frauddetector:GetEventPrediction"
SAGEMAKER_API = "sagemaker:InvokeEndpoint"


def model_prices(sagemaker_usd_per_call: float = 0.0002, frauddetector_usd_per_call: float = 0.0075) -> dict[str, Price]:
    return {
        SAGEMAKER_API: Price(sagemaker_usd_per_call, unit_chars=1, min_units=1),
        FRAUDDETECTOR_API: Price(frauddetector_usd_per_call, unit_chars=1, min_units=1),
    }


class ModelResponseError(ValueError):
    """The model answered, but not in a shape we understand."""


def model_features(ctx: ScoringContext, rules: RulesEngine) -> dict[str, Any]:
    """What a model sees: facts of the payment and the customer's history, no identity, no PAN."""
    f = rules.features(ctx)
    txn = ctx.txn
    return {**f, "mcc": txn.mcc, "country": txn.country, "channel": txn.channel, "currency": txn.currency,
            "hour_utc": txn.occurred_at.hour, "cvv": ctx.cvv, "device_new": bool(ctx.device_new)}


class SageMakerScorer:
    name = "sagemaker"

    def __init__(self, client, endpoint_name: str, rules: RulesEngine, version: str | None = None):
        self.client = client
        self.endpoint_name = endpoint_name
        self.rules = rules
        self.version = version or endpoint_name

    def score(self, ctx: ScoringContext) -> RiskAssessment:
        body = json.dumps({"features": model_features(ctx, self.rules)}, sort_keys=True)
        resp = self.client.invoke_endpoint(EndpointName=self.endpoint_name, ContentType="application/json",
                                           Accept="application/json", Body=body.encode("utf-8"))
        raw = resp["Body"].read()
        variant = resp.get("InvokedProductionVariant")
        return RiskAssessment(parse_sagemaker_score(raw), (), self.name,
                              f"{self.version}/{variant}" if variant else self.version)


def parse_sagemaker_score(raw: bytes | str) -> float:
    try:
        doc = json.loads(raw)
    except ValueError:
        raise ModelResponseError("response body is not JSON") from None
    value: Any = doc
    if isinstance(value, dict) and "predictions" in value:
        value = value["predictions"]
    if isinstance(value, list):
        if not value:
            raise ModelResponseError("empty predictions")
        value = value[0]
    if isinstance(value, dict):
        value = value.get("score", value.get("probability"))
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ModelResponseError(f"no score in 0..1 in {str(doc)[:80]!r}")
    return float(value)


class FraudDetectorScorer:
    name = "frauddetector"

    def __init__(self, client, detector_id: str, event_type: str, rules: RulesEngine, *,
                 detector_version: str | None = None, entity_type: str = "customer"):
        self.client = client
        self.detector_id = detector_id
        self.detector_version = detector_version
        self.event_type = event_type
        self.entity_type = entity_type
        self.rules = rules

    def request(self, ctx: ScoringContext) -> dict[str, Any]:
        txn = ctx.txn
        f = model_features(ctx, self.rules)
        variables = {k: (f"{v:.4f}" if isinstance(v, float) else str(v).lower() if isinstance(v, bool) else str(v))
                     for k, v in f.items()}
        req = {
            "detectorId": self.detector_id,
            "eventId": ctx.event_id or txn.txn_id,
            "eventTypeName": self.event_type,
            "entities": [{"entityType": self.entity_type, "entityId": txn.customer_id}],
            "eventTimestamp": txn.occurred_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventVariables": variables,
        }
        if self.detector_version:
            req["detectorVersionId"] = self.detector_version
        return req

    def score(self, ctx: ScoringContext) -> RiskAssessment:
        resp = self.client.get_event_prediction(**self.request(ctx))
        score, version, outcomes = parse_fraud_detector(resp)
        return RiskAssessment(score, (), self.name, version,
                              {f"outcome:{o}": 1.0 for o in outcomes})


def parse_fraud_detector(resp: dict[str, Any]) -> tuple[float, str, list[str]]:
    """(highest model score scaled to 0..1, model id/version, rule outcomes in order)."""
    best, version = None, "frauddetector"
    for ms in resp.get("modelScores", []):
        for value in (ms.get("scores") or {}).values():
            if best is None or value > best:
                best = value
                mv = ms.get("modelVersion") or {}
                version = f"{mv.get('modelId', '?')}/{mv.get('modelVersionNumber', '?')}"
    outcomes = [o for rr in resp.get("ruleResults", []) for o in rr.get("outcomes", [])]
    if best is None:
        raise ModelResponseError("no model scores in the prediction")
    return min(1.0, max(0.0, float(best) / 1000.0)), version, outcomes


def classify_failure(exc: BaseException) -> str:
    if isinstance(exc, (ReadTimeoutError, ConnectTimeoutError)):
        return "timeout"
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        return "throttled" if "Throttl" in code or code == "TooManyRequestsException" else "error"
    if isinstance(exc, ModelResponseError):
        return "bad_response"
    return "error"


class GuardedModelScorer:
    """A model scorer that never raises: breaker, latency record, rules fallback."""

    def __init__(self, model: RiskScorer, rules: RulesEngine, breaker: CircuitBreaker,
                 timer: Callable[[], float] = time.perf_counter):
        self.model = model
        self.rules = rules
        self.breaker = breaker
        self.timer = timer
        self.name = model.name

    def _fallback(self, ctx: ScoringContext, reason: str) -> RiskAssessment:
        r = self.rules.score(ctx)
        return RiskAssessment(r.score, r.reason_codes, r.scorer, r.version, r.details, fallback_reason=reason)

    def score(self, ctx: ScoringContext) -> RiskAssessment:
        if not self.breaker.allow():
            return self._fallback(ctx, "breaker_open")
        start = self.timer()
        try:
            result = self.model.score(ctx)
        except (BotoCoreError, ClientError, ModelResponseError, KeyError, TypeError) as exc:
            self.breaker.record_failure((self.timer() - start) * 1000)
            return self._fallback(ctx, classify_failure(exc))
        self.breaker.record_success((self.timer() - start) * 1000)
        return result
