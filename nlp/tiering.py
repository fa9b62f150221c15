"""The container's Comprehend tier, with its kill switch, shadow mode, breaker and ceiling wired in.

Why a module of its own: ``ComprehendTier`` knows how to call Comprehend cheaply and safely, but
production needs more around it, once per Lambda container: a cost meter whose hourly-ceiling
refusals are recorded as decisions, a circuit breaker whose trips and recoveries are recorded as
decisions, and the ``comprehend_tier`` control (``chalicelib.governance.controls``) read on **every** message,
so an operator can switch the paid tier off or to shadow in seconds (environment
``DA_CONTROL_COMPREHEND_TIER`` or SSM, cached only for the controls' own TTL).

Modes, as the triage result shows them in ``tier_used``:

- ``on``: normal tiering (``comprehend`` when Comprehend answered, ``local`` when it was not needed,
  ``local:<why>`` when throttled, timed out, over budget or behind an open breaker).
- ``off``: Comprehend is never called; ``tier_used`` is ``local:comprehend_off`` (the escalation
  reasons still say why it would have been asked).
- ``shadow``: Comprehend is called as in ``on`` but its answer is not used: the local result stands
  (``tier_used`` ``local:comprehend_shadow`` when the tier was asked, ``local`` when it was not
  needed), and what Comprehend would have changed (category, sentiment, language) is recorded as a
  decision (action ``comprehend_shadow``, ``shadow=True``, capability ``comprehend_tier``). Its
  cost is real and is attributed to that shadow decision, not to the local result, so the
  message's own decision does not count it twice.

How the shadow decision sees the local result: ``nlp.triage.triage_text`` hands its finished
result to the tier's ``settle()`` (plain ``ComprehendTier`` has none). ``analyse`` and ``settle``
of one message run in the same thread, so the pending Comprehend view is kept thread-locally: no
shared state grows, and concurrent messages cannot see each other's view.

Failure policy: recording a breaker transition, a ceiling refusal or a shadow decision must never
cost the customer their triage (an email whose triage raises is stored as ``failed_parse``), so a
decision-log failure is logged and swallowed here.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalicelib.governance.cost import CircuitBreaker, CostMeter, log_refusals, log_transitions
from chalicelib.core.ids import derive_decision_id
from nlp.triage_result import triage_key
from nlp.comprehend import (
    TIER_COMPREHEND,
    TIER_LOCAL,
    ComprehendOutcome,
    ComprehendTier,
)

if TYPE_CHECKING:  # pragma: no cover - typing only
    from nlp.triage_result import TriageResult

__all__ = ["CAPABILITY", "COMPARED_FIELDS", "SHADOW_ACTION", "TIER_OFF", "TIER_SHADOW", "ControlledTier",
           "build_container_tier", "get_container_tier", "reset_container_tier"]

log = logging.getLogger(__name__)

CAPABILITY = "comprehend_tier"
TIER_OFF = "local:comprehend_off"
TIER_SHADOW = "local:comprehend_shadow"
SHADOW_ACTION = "comprehend_shadow"
COMPARED_FIELDS = ("category", "sentiment", "language")
COMPREHEND_API_VERSION = "2017-11-27"


class _ContainerDecisionLog:
    """The container's decision log, looked up when a decision is recorded rather than when the
    tier is built: building the tier touches no store."""

    def __init__(self, settings: Any = None):
        self.settings = settings
        self._log: Any = None

    def record(self, **kwargs: Any) -> Any:
        if self._log is None:
            from chalicelib.governance.decision_log import build_decision_log

            self._log = build_decision_log(self.settings)
        return self._log.record(**kwargs)


def _never_raises(callback: Callable[..., None], what: str) -> Callable[..., None]:
    def call(*args: Any) -> None:
        try:
            callback(*args)
        except Exception:
            log.exception("could not record %s in the decision log", what)

    return call


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


@dataclass(frozen=True)
class _Pending:
    key: str
    mode: str
    outcome: ComprehendOutcome


class ControlledTier:
    """A ``ComprehendTier`` behind the ``comprehend_tier`` kill switch / shadow mode.

    It offers what ``nlp.triage`` calls (``escalation_reasons``, ``analyse``, ``settle``) and
    reads the control on every ``analyse``; ``tier`` is the wrapped ``ComprehendTier`` (meter,
    breaker and budget live there)."""

    def __init__(self, tier: ComprehendTier, *, decision_log: Any = None, controls: Any = None,
                 capability: str = CAPABILITY, rollout: Any = None):
        self.tier = tier
        # RolloutGate: ``on`` is live only for the messages of subjects (the triage id: the chat
        # session or the email) in the stage's percentage; the rest are asked in shadow.
        self.rollout = rollout
        self.decision_log = decision_log if decision_log is not None else _ContainerDecisionLog()
        self.controls = controls
        self.capability = capability
        self._local = threading.local()

    @property
    def meter(self) -> CostMeter:
        return self.tier.meter

    @property
    def breaker(self) -> CircuitBreaker | None:
        return self.tier.breaker

    def mode(self) -> str:
        """The control's mode now; an unreadable control counts as ``off`` (fail safe, as in
        ``chalicelib.governance.controls``)."""
        try:
            if self.controls is not None:
                return self.controls.mode(self.capability)
            from chalicelib.governance.controls import Controls

            self.controls = Controls.from_env()  # the container passes its own; this tier's, once
            return self.controls.mode(self.capability)
        except Exception:
            log.exception("cannot read the %s control: treating it as off", self.capability)
            return "off"

    def escalation_reasons(self, **kwargs: Any) -> list[str]:
        return self.tier.escalation_reasons(**kwargs)

    def analyse(self, redacted_text: str, *, escalation: list[str], language: str = "en",
                language_confidence: float = 1.0, decision_id: str | None = None) -> ComprehendOutcome:
        mode = self.mode()
        if self.rollout is not None:
            mode = self.rollout.mode(self.capability, decision_id, mode)
        self._local.pending = None
        if mode == "off":
            outcome = ComprehendOutcome(TIER_OFF)
            self._local.pending = _Pending(decision_id or "", mode, outcome)
            return outcome
        real = self.tier.analyse(redacted_text, escalation=escalation, language=language,
                                 language_confidence=language_confidence, decision_id=decision_id)
        self._local.pending = _Pending(decision_id or "", mode, real)
        if mode != "shadow":
            return real
        # The local result stands: no sentiment or language from Comprehend, no cost on the result.
        return ComprehendOutcome(TIER_LOCAL if real.tier_used == TIER_LOCAL else TIER_SHADOW)

    def settle(self, result: TriageResult) -> TriageResult:
        """Called by ``triage_text`` with its finished result: records the shadow decision and
        drops the Comprehend model version from results Comprehend did not shape."""
        pending: _Pending | None = getattr(self._local, "pending", None)
        self._local.pending = None
        if pending is None or pending.key != triage_key(result.id, result.redacted_text):
            return result
        if self.rollout is not None and pending.mode != "off":
            # Live or shadow, each message the tier saw feeds its guards: spend, and the
            # classifier's confidence and label mix (the drift guards).
            self.rollout.observe(self.capability, cost_usd=float(pending.outcome.cost_usd),
                                 confidence=float(result.category_confidence), label=result.category)
        if pending.mode == "on":
            return result  # Comprehend shaped it (or was not needed): as it is
        versions = {k: v for k, v in result.model_versions.items() if k != "comprehend"}
        result = result.model_copy(update={"model_versions": versions})
        if pending.mode == "shadow" and pending.outcome.calls:
            self._record_shadow(pending, result)
        return result

    def _record_shadow(self, pending: _Pending, result: TriageResult) -> None:
        real = pending.outcome
        local = {"category": result.category, "sentiment": result.sentiment, "language": result.language}
        # Comprehend's view only ever replaces sentiment and language (see nlp.comprehend); the
        # category is compared too so that a future merge that touches it shows up here.
        would = dict(local)
        if real.sentiment is not None:
            would["sentiment"] = real.sentiment
        if real.language is not None:
            would["language"] = real.language
        changed = [f for f in COMPARED_FIELDS if would[f] != local[f]]
        answered = real.tier_used == TIER_COMPREHEND
        outcome = ("would_change" if changed else "no_change") if answered else "unavailable"
        reasons = ["shadow_mode"] + [f"would_change_{f}" for f in changed] + ([] if answered else [real.tier_used])
        subject = {"triage_id": pending.key[:128], "changed": ",".join(changed),
                   "escalation": ",".join(result.escalation_reasons), "calls": ",".join(real.calls)}
        for field in COMPARED_FIELDS:
            subject[f"local_{field}"] = str(local[field])
            subject[f"comprehend_{field}"] = str(would[field]) if answered else ""
        scores = {"units": float(real.units)}
        scores.update({f"comprehend_{k.lower()}": float(v) for k, v in real.sentiment_scores.items()})
        if real.language is not None:
            scores["comprehend_language_confidence"] = float(real.language_confidence)
        explanation = (f"Shadow mode: Comprehend was asked ({', '.join(result.escalation_reasons) or 'no reason'}) "
                       + (f"and would have changed {', '.join(changed)}" if changed else
                          "and would have changed nothing" if answered else f"but gave no answer ({real.tier_used})")
                       + "; the local result was used.")
        try:
            self.decision_log.record(
                action=SHADOW_ACTION, outcome=outcome, actor="assistant", channel=result.channel,
                capability=self.capability, mode="shadow", shadow=True, acted=False, tier="comprehend",
                reasons=reasons, subject=subject, scores=scores, models={"comprehend": COMPREHEND_API_VERSION},
                explanation=explanation, cost_usd=real.cost_usd,
                # Per message and text: a redelivered email records nothing twice, while two chat
                # turns of one session (same id, different text) are two decisions.
                decision_id=derive_decision_id(SHADOW_ACTION, pending.key, _digest(result.redacted_text)),
            )
        except Exception:
            log.exception("could not record the Comprehend shadow decision")


def build_container_tier(settings: Any = None, *, client: Any = None, session: Any = None,
                         decision_log: Any = None, controls: Any = None, rollout: Any = None,
                         clock: Callable[[], float] = time.monotonic) -> ControlledTier | None:
    """The tier for ``settings``, or None when ``comprehend_enabled`` is false or (without an
    injected ``client``) no AWS credentials exist. The boto3 client is created here, on the first
    message, never at import time."""
    if settings is None:
        from chalicelib.core.settings import get_settings

        settings = get_settings()
    if not getattr(settings, "comprehend_enabled", False):
        return None
    dlog = decision_log if decision_log is not None else _ContainerDecisionLog(settings)
    meter = CostMeter.from_env(on_refused=_never_raises(log_refusals(dlog), "a spending-ceiling refusal"))
    breaker = CircuitBreaker("comprehend", clock=clock,
                             on_transition=_never_raises(log_transitions(dlog), "a circuit-breaker transition"))
    if client is None:
        tier = ComprehendTier.from_settings(settings, session=session, meter=meter, breaker=breaker, clock=clock)
    else:
        tier = ComprehendTier(client, meter=meter, breaker=breaker,
                              timeout_s=getattr(settings, "dependency_timeout_s", 2.0), clock=clock)
    if tier is None:
        return None
    return ControlledTier(tier, decision_log=dlog, controls=controls, rollout=rollout)


# Tests replace this (``monkeypatch.setattr(nlp.tiering, "_factory", ...)``) to inject a client.
_factory: Callable[[], ControlledTier | None] = build_container_tier
_lock = threading.Lock()
_built = False
_tier: ControlledTier | None = None


def get_container_tier() -> ControlledTier | None:
    """This container's tier, built once (thread-safe) on first use; None means local only
    (disabled, no credentials, or it could not be built). The kill switch is applied per call by
    the returned tier, so holding on to it is safe."""
    global _built, _tier
    if not _built:
        with _lock:
            if not _built:
                try:
                    _tier = _factory()
                except Exception:
                    log.exception("cannot build the Comprehend tier: this container triages locally")
                    _tier = None
                _built = True
    return _tier


def reset_container_tier() -> None:
    """Forget the container's tier (tests; a settings change in a long-lived process)."""
    global _built, _tier
    with _lock:
        _built, _tier = False, None
