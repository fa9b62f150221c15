"""The paid tier: Amazon Comprehend, asked only when it pays, under a budget, never blocking.

Why a tier and not the default: Comprehend costs $0.0001 per 100-character unit with a 3-unit
minimum per request, and calling all five text APIs on every 1,500-character email would cost
$7.50 per 1,000 emails. The local tier answers most messages; Comprehend is asked only when the
local answer is weak (classifier unsure, text not English or language uncertain) or the stakes are
high (large amount, legal threat), and only with **redacted** text.

What it adds: DetectSentiment (on the first 500 characters only, the part Comprehend scores
anyway, so a long email costs at most 5 units) replaces the local sentiment; DetectDominantLanguage
(same 500 characters) replaces an uncertain local language guess. The intent, category, entities
and urgency stay local.

Failure is an answer, not an exception: throttling, a timeout, any client or connection error, an
exhausted budget or an open circuit breaker leave the local result standing, and ``tier_used``
names the reason (``local:comprehend_throttled`` …). A failure mid-way discards what the earlier
call of the same message returned, so a result is either all-local or local plus a consistent
Comprehend view; the cost of calls that were billed is still attributed.

Budget and cost: each call's billed units are reserved before the call, per message
(``ComprehendBudget.units_per_message``) and per clock hour (``units_per_hour`` in this
container, plus the ``chalicelib.governance.cost.CostMeter`` USD ceiling, which can be shared across
containers). A reservation for a call that AWS then rejected (throttled, client error) stays
counted against the ceiling: a conservative ceiling is the safe side. ``cost_usd`` on the result
counts the calls AWS would bill: successful ones and timed-out ones (the request may have been
processed).

Timeouts and retries live in the boto3 client's ``botocore.config.Config`` (connect/read timeout,
bounded standard-mode retries): ``client_config()`` builds it, ``from_settings()`` creates the
client lazily. An injected client (tests, Stubber) keeps whatever config it was built with.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from chalicelib.governance.cost import COMPREHEND, CircuitBreaker, CostMeter

__all__ = ["ComprehendBudget", "ComprehendOutcome", "ComprehendTier", "client_config", "billed_units",
           "SENTIMENT_CHARS", "SENTIMENT_LANGUAGES", "UNIT_USD"]

log = logging.getLogger(__name__)

SENTIMENT_CHARS = 500
LANGUAGE_CHARS = 500
UNIT_USD = COMPREHEND.usd_per_unit
# Languages DetectSentiment accepts (LanguageCode); other languages get no sentiment call.
SENTIMENT_LANGUAGES = frozenset({"en", "es", "fr", "de", "it", "pt", "ar", "hi", "ja", "ko", "zh", "zh-TW"})
LANGUAGE_CERTAIN = 0.6  # below this local confidence, DetectDominantLanguage is worth its 3–5 units
COMPREHEND_LANGUAGE_MIN = 0.5  # Comprehend's own score needed to replace the local guess

THROTTLE_CODES = frozenset({"ThrottlingException", "TooManyRequestsException", "Throttling",
                            "ThrottledException", "RequestLimitExceeded", "SlowDown"})

TIER_LOCAL = "local"
TIER_COMPREHEND = "comprehend"
TIER_BUDGET = "local:comprehend_budget_exhausted"
TIER_THROTTLED = "local:comprehend_throttled"
TIER_TIMEOUT = "local:comprehend_timeout"
TIER_ERROR = "local:comprehend_error"
TIER_DISABLED = "local:comprehend_disabled"
TIER_BREAKER = "local:breaker_open"


def billed_units(chars: int) -> int:
    """Units Comprehend bills for one request of ``chars`` characters (3-unit minimum)."""
    return COMPREHEND.units(chars)


def client_config(timeout_s: float = 2.0, max_retries: int = 2) -> Any:
    """Per-call timeouts and bounded retries: the worst case stays far inside Lex's 30 s hook."""
    from botocore.config import Config

    return Config(connect_timeout=timeout_s, read_timeout=timeout_s,
                  retries={"max_attempts": max_retries, "mode": "standard"})


@dataclass(frozen=True)
class ComprehendBudget:
    """Billed units one message may use, and units per clock hour in this container."""

    units_per_message: int = 10  # sentiment (≤ 5 units on 500 chars) + language (≤ 5)
    units_per_hour: int = 10_000  # $1.00 an hour


@dataclass
class ComprehendOutcome:
    tier_used: str
    sentiment: str | None = None
    sentiment_scores: dict[str, float] = field(default_factory=dict)
    language: str | None = None
    language_confidence: float = 0.0
    units: int = 0  # billed units attributed to this message
    reserved_units: int = 0  # units reserved against the budgets (billed or not)
    cost_usd: float = 0.0
    calls: list[str] = field(default_factory=list)  # API names actually sent


class _Stop(Exception):
    def __init__(self, tier: str):
        super().__init__(tier)
        self.tier = tier


class ComprehendTier:
    def __init__(self, client: Any, meter: CostMeter | None = None, budget: ComprehendBudget | None = None,
                 breaker: CircuitBreaker | None = None, timeout_s: float = 2.0, max_retries: int = 2,
                 *, clock: Callable[[], float] = time.monotonic):
        self.client = client
        self.meter = meter if meter is not None else CostMeter.from_env()
        self.budget = budget or ComprehendBudget()
        self.breaker = breaker
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.clock = clock
        self._lock = threading.Lock()
        self._hour_units: dict[str, int] = {}

    @classmethod
    def from_settings(cls, settings: Any = None, *, session: Any = None, **kwargs: Any) -> "ComprehendTier | None":
        """The tier for this container, or None when it is disabled or no AWS credentials exist
        (the CLI and local runs then report ``local:comprehend_disabled``)."""
        if settings is None:
            from chalicelib.core.settings import get_settings

            settings = get_settings()
        if not getattr(settings, "comprehend_enabled", False):
            return None
        import boto3

        session = session or boto3.session.Session()
        if session.get_credentials() is None:
            return None
        timeout_s = kwargs.pop("timeout_s", getattr(settings, "dependency_timeout_s", 2.0))
        max_retries = kwargs.pop("max_retries", 2)
        client = session.client("comprehend", region_name=settings.region,
                                config=client_config(timeout_s, max_retries))
        return cls(client, timeout_s=timeout_s, max_retries=max_retries, **kwargs)

    # -- when to call ------------------------------------------------------------------------

    def escalation_reasons(self, *, unsure: bool, language: str, language_confidence: float,
                           urgency_reasons: list[str] | tuple[str, ...] = ()) -> list[str]:
        """Why this message is worth Comprehend; empty means the local result is good enough."""
        reasons: list[str] = []
        if unsure:
            reasons.append("unsure")
        if language not in ("en", "und"):
            reasons.append("non_english")
        if language != "und" and language_confidence < LANGUAGE_CERTAIN:
            reasons.append("language_uncertain")
        for stake in ("large_amount", "legal_threat"):
            if stake in urgency_reasons:
                reasons.append(stake)
        return reasons

    # -- budget ------------------------------------------------------------------------------

    def _reserve(self, api: str, units: int, used: int, decision_id: str | None) -> None:
        if used + units > self.budget.units_per_message:
            raise _Stop(TIER_BUDGET)
        bucket = self.meter.bucket()
        with self._lock:
            for old in [b for b in self._hour_units if b != bucket]:
                del self._hour_units[old]
            if self._hour_units.get(bucket, 0) + units > self.budget.units_per_hour:
                raise _Stop(TIER_BUDGET)
            if not self.meter.try_spend(units, api=f"comprehend:{api}", tier="comprehend", decision_id=decision_id):
                raise _Stop(TIER_BUDGET)
            self._hour_units[bucket] = self._hour_units.get(bucket, 0) + units

    def units_spent_this_hour(self) -> int:
        with self._lock:
            return self._hour_units.get(self.meter.bucket(), 0)

    # -- calls -------------------------------------------------------------------------------

    def _call(self, api: str, **params: Any) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ReadTimeoutError

        method = getattr(self.client, {"DetectSentiment": "detect_sentiment",
                                       "DetectDominantLanguage": "detect_dominant_language"}[api])
        start = self.clock()
        try:
            response = method(**params)
        except (ReadTimeoutError, ConnectTimeoutError):
            self._failed(start)
            raise _Stop(TIER_TIMEOUT) from None
        except ClientError as exc:
            self._failed(start)
            code = exc.response.get("Error", {}).get("Code", "")
            raise _Stop(TIER_THROTTLED if code in THROTTLE_CODES else TIER_ERROR) from None
        except (BotoCoreError, OSError, ValueError, KeyError, TypeError):
            self._failed(start)
            raise _Stop(TIER_ERROR) from None
        if self.breaker is not None:
            self.breaker.record_success((self.clock() - start) * 1000)
        return response

    def _failed(self, start: float) -> None:
        if self.breaker is not None:
            self.breaker.record_failure((self.clock() - start) * 1000)

    def _attempt(self, api: str, out: ComprehendOutcome, decision_id: str | None, **params: Any) -> dict[str, Any]:
        """Breaker, then budget, then the call; accounts units reserved, units billed and calls."""
        if self.breaker is not None and not self.breaker.allow():
            raise _Stop(TIER_BREAKER)
        units = billed_units(len(params["Text"]))
        self._reserve(api, units, out.reserved_units, decision_id)
        out.reserved_units += units
        out.calls.append(api)
        try:
            response = self._call(api, **params)
        except _Stop as stop:
            if stop.tier == TIER_TIMEOUT:  # the request may have been processed: count it billed
                out.units += units
            raise
        out.units += units
        return response

    def analyse(self, redacted_text: str, *, escalation: list[str], language: str = "en",
                language_confidence: float = 1.0, decision_id: str | None = None) -> ComprehendOutcome:
        """Ask Comprehend what the escalation reasons call for. ``redacted_text`` must already be
        redacted: this method is the process boundary and sends it as is."""
        text = (redacted_text or "").strip()
        if not escalation or not text:
            return ComprehendOutcome(TIER_LOCAL)
        out = ComprehendOutcome(TIER_COMPREHEND)
        started = self.clock()
        lang = language
        try:
            if "language_uncertain" in escalation:
                resp = self._attempt("DetectDominantLanguage", out, decision_id, Text=text[:LANGUAGE_CHARS])
                langs = sorted(resp.get("Languages") or [], key=lambda x: -float(x.get("Score", 0.0)))
                if langs and float(langs[0].get("Score", 0.0)) >= COMPREHEND_LANGUAGE_MIN:
                    lang = str(langs[0]["LanguageCode"])
                    out.language, out.language_confidence = lang, float(langs[0]["Score"])
            code = lang if lang in SENTIMENT_LANGUAGES else ("en" if lang == "und" else None)
            if code is not None:
                if out.calls and self.clock() - started > self.timeout_s:
                    raise _Stop(TIER_TIMEOUT)  # the message's time budget is spent: stop here
                resp = self._attempt("DetectSentiment", out, decision_id, Text=text[:SENTIMENT_CHARS],
                                     LanguageCode=code)
                scores = resp.get("SentimentScore") or {}
                out.sentiment = str(resp["Sentiment"])
                out.sentiment_scores = {k: float(scores.get(k, 0.0)) for k in ("Positive", "Negative", "Neutral", "Mixed")}
        except _Stop as stop:
            log.info("comprehend tier skipped: %s (decision %s)", stop.tier, decision_id)
            return ComprehendOutcome(stop.tier, units=out.units, reserved_units=out.reserved_units,
                                     cost_usd=round(out.units * UNIT_USD, 6), calls=out.calls)
        if not out.calls:
            return ComprehendOutcome(TIER_LOCAL)
        out.cost_usd = round(out.units * UNIT_USD, 6)
        if self.breaker is not None and out.cost_usd:
            self.breaker.record_spend(out.cost_usd)
        return out
