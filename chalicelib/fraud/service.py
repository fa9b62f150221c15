"""Builds the card-event stream's services from settings: the one place they are constructed.

Why here and not in ``app.py``: the entry point only parses and calls; the replay CLI and the tests
build the same processor with the same wiring (a store, a decision log, a notifier of their own).
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from chalicelib.governance.cost import CircuitBreaker, CostMeter, DEFAULT_PRICES
from chalicelib.fraud.actions import FraudActionService
from chalicelib.fraud.adapters import (FRAUDDETECTOR_API, SAGEMAKER_API, FraudDetectorScorer, GuardedModelScorer,
                                       SageMakerScorer, model_prices)
from chalicelib.fraud.events import CardEvent
from chalicelib.fraud.history import HistoryCache
from chalicelib.fraud.batch import DeferredDecisionLog, DeferredNotifier, SqliteBatchUnit
from chalicelib.fraud.ledger import SqliteEventLedger, build_event_ledger
from chalicelib.outbox import check_notice
from chalicelib.storage.sqlite import SqliteStore
from chalicelib.fraud.scoring import HISTORY_DAYS, RulesEngine, ScoringContext, SelectiveScorer
from chalicelib.fraud.stream import APPLIED_TTL_S, CardEventProcessor
from chalicelib.storage.idempotency import IdempotencyGuard, build_idempotency_store
from chalicelib.core.models import Transaction

log = logging.getLogger(__name__)


@dataclass
class FraudService:
    """Scores an applied authorisation and acts on the verdict (the stream's ``on_authorisation``)."""

    store: Any
    scorer: SelectiveScorer
    actions: FraudActionService
    history: HistoryCache | None = None

    def __post_init__(self) -> None:
        self.history = self.history or HistoryCache(self.store)

    def begin_batch(self) -> None:
        self.history.begin_batch()

    def end_batch(self) -> None:
        self.scorer.flush_metrics()

    def observe(self, txn: Transaction) -> None:
        self.history.observe(txn)

    def assess(self, txn: Transaction, event: CardEvent) -> dict:
        since = txn.occurred_at - timedelta(days=HISTORY_DAYS)
        history = self.history.window(txn.customer_id, since, txn.occurred_at)
        ctx = ScoringContext(txn, history, cvv=event.cnp.cvv if event.cnp else "not_provided",
                             device_new=event.device_new, event_id=event.event_id)
        return self.actions.act(txn, self.scorer.score(ctx), event.event_id)


def build_model(settings, rules: RulesEngine, *, client=None, breaker: CircuitBreaker | None = None):
    """The configured model behind its guard (None when ``fraud_model`` is ``none``)."""
    if settings.fraud_model == "none":
        return None, None
    from chalicelib.core.aws import client as aws_client

    service = "sagemaker-runtime" if settings.fraud_model == "sagemaker" else "frauddetector"
    client = client or aws_client(service, settings, timeout_s=settings.fraud_model_timeout_s,
                                  max_attempts=settings.fraud_model_max_attempts)
    if settings.fraud_model == "sagemaker":
        model, api = SageMakerScorer(client, settings.fraud_sagemaker_endpoint, rules), SAGEMAKER_API
    else:
        model = FraudDetectorScorer(client, settings.fraud_detector_id, settings.fraud_event_type, rules,
                                    detector_version=settings.fraud_detector_version)
        api = FRAUDDETECTOR_API
    breaker = breaker or CircuitBreaker(f"fraud_{settings.fraud_model}", latency_ms=settings.fraud_model_timeout_s * 1000)
    return GuardedModelScorer(model, rules, breaker), api


def build_notifier(settings):
    if settings.notifier == "sns":
        from chalicelib.core.aws import client as aws_client
        from chalicelib.outbox import SnsSmsNotifier

        return SnsSmsNotifier(aws_client("sns", settings))
    from chalicelib.outbox import LocalOutbox

    return LocalOutbox(settings.outbox_dir)


def build_processor(settings=None, *, store=None, decision_log=None, notifier=None, metrics=None,
                    model_client=None, cost: CostMeter | None = None, rollout=None) -> CardEventProcessor:
    from chalicelib.core.settings import get_settings

    settings = settings or get_settings()
    if store is None:
        from chalicelib.storage.factory import get_store

        store = get_store(settings)
    if decision_log is None:
        from chalicelib.governance.decision_log import build_decision_log

        decision_log = build_decision_log(settings)
    if metrics is None:
        from chalicelib.governance.metrics import GovernanceMetrics

        metrics = GovernanceMetrics()
    rules = RulesEngine()
    model, api = build_model(settings, rules, client=model_client)
    after_commit = None
    if rollout is not None and isinstance(store, SqliteStore) and settings.backend != "dynamodb":
        from chalicelib.governance.rollout_gate import DeferredObservations

        rollout = DeferredObservations(rollout)  # never write beside the batch's open transaction
        after_commit = rollout.flush
    cost = cost or CostMeter.from_env(prices={**DEFAULT_PRICES, **model_prices()})
    scorer = SelectiveScorer(rules, model, mode=settings.fraud_model_mode, floor=settings.fraud_model_floor,
                             cost=cost, api=api, metrics=metrics, rollout=rollout)
    notifier = notifier or build_notifier(settings)
    guard = IdempotencyGuard(build_idempotency_store(settings), ttl_s=APPLIED_TTL_S)
    if isinstance(store, SqliteStore) and settings.backend != "dynamodb":
        # One transaction per batch on the store's connection; the log and the notice follow the commit.
        unit = SqliteBatchUnit(store)
        ledger = SqliteEventLedger(settings.sqlite_path, conn=unit.conn)
        ledger.create_schema()
        actions = FraudActionService(store, DeferredDecisionLog(unit), DeferredNotifier(unit, check_notice),
                                     metrics=metrics, model_mode=settings.fraud_model_mode, cost=cost)
        fraud = FraudService(store, scorer, actions)
        return CardEventProcessor(store, ledger, guard, on_authorisation=fraud.assess, observer=fraud,
                                  unit=unit, effects=(decision_log, notifier), after_commit=after_commit)
    actions = FraudActionService(store, decision_log, notifier, metrics=metrics,
                                 model_mode=settings.fraud_model_mode, cost=cost)
    fraud = FraudService(store, scorer, actions)
    return CardEventProcessor(store, build_event_ledger(settings), guard, on_authorisation=fraud.assess,
                              observer=fraud)


def handle_kinesis_event(event: dict, processor: CardEventProcessor) -> dict:
    """The Lambda Kinesis event (``{"Records": [...]}``) → partial-batch response, on the
    container's processor (chatbot/bootstrap.py builds it). An event that is not that shape has
    no record to retry or quarantine: it is logged with a stable code and answered empty."""
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        log.error(json.dumps({"event": "card_event_batch_rejected", "code": "E_NOT_KINESIS_EVENT",
                              "type": type(records if isinstance(event, dict) else event).__name__}))
        records = []
    return processor.handle_records(records).response()
