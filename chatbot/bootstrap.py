"""The composition root: the one place where a container's services are built from settings.

Why one place: a Lambda container (or a CLI process, or the local server) must hold exactly one of
each service. Two decision logs in one container are two writers on one hash chain; two turn pools
double the threads; a process-wide singleton in a library module outlives the settings it was
built from and is inherited, half-alive, by a forked child. So nothing below this module keeps a
module-level instance: each service is built here, the first time an entry point asks for it
(cold start stays cheap: the Lex hook's container never builds the email service), and kept by
the :class:`Container` that the entry point holds.

Tests and CLIs build their own container, handing in what they replace (a store on a temp file,
a fixed clock, a local bucket, a service they built themselves) by the service's name.
"""
from __future__ import annotations

import concurrent.futures as cf
import functools
import logging
import threading
from datetime import datetime
from typing import Any, Callable

from chalicelib.core.models import utcnow
from chalicelib.core.settings import get_settings

logger = logging.getLogger("dispute_assistant.bootstrap")

TURN_WORKERS = 4  # Lex sends one turn at a time per container; the spare workers absorb turns that overran


class Container:
    """One container's services, each built on first use and then kept (thread-safe).

    ``given`` replaces a service by its name (``store``, ``clock``-independent ones such as
    ``otp_sender``, ``s3``, ``notifier``, ``email_ingest``, ``card_events``, ``webchat`` ...):
    a given service is used as is and never built."""

    def __init__(self, settings: Any = None, *, clock: Callable[[], datetime] = utcnow, **given: Any):
        self.settings = settings or get_settings()
        self.clock = clock
        unknown = sorted(set(given) - set(_BUILDERS))
        if unknown:
            raise TypeError(f"Container got unknown services {unknown}; known: {sorted(_BUILDERS)}")
        self._built: dict[str, Any] = dict(given)
        self._lock = threading.RLock()  # re-entrant: building governance builds the decision log

    def get(self, name: str) -> Any:
        """The named service, built by its builder the first time it is asked for."""
        with self._lock:
            if name not in self._built:
                self._built[name] = _BUILDERS[name](self)
            return self._built[name]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in _BUILDERS:
            raise AttributeError(name)
        return self.get(name)

    # ---- entry points' one call each -------------------------------------------------------

    def handle_lex_event(self, event: Any, budget_s: float | None = None) -> dict:
        """The Lex code hook on this container's services, resolver and turn pool."""
        from chatbot.hook import handle_lex_event

        services, resolver = self.get("chat")
        return handle_lex_event(event, services, resolver, budget_s=budget_s)

    def close(self) -> None:
        """Stop the turn pool's threads (tests, CLIs that are done); the container is not reused."""
        pool = self._built.pop("turn_pool", None)
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


# ---- builders: one per service, each reading the settings and the services it depends on ------


def _build_store(c: Container) -> Any:
    from chalicelib.storage import get_store

    return get_store(c.settings)


def _build_metrics(c: Container) -> Any:
    from chalicelib.governance.metrics import GovernanceMetrics

    return GovernanceMetrics()


def _build_decision_log(c: Container) -> Any:
    """The container's ONE decision log: the chat governance, the email service, the Comprehend tier
    and the card-event stream all append to this instance."""
    from chalicelib.governance.decision_log import build_decision_log

    log = build_decision_log(c.settings, anchor=c.get("decision_anchor"))
    log.clock = c.clock  # one clock for the facts and the record (tests and replays run on fixed time)
    log.metrics = c.get("metrics")
    return log


def _build_decision_anchor(c: Container) -> Any:
    """The decision log's head kept outside its store (SSM in AWS, a file locally): the log
    advances it on every append and `audit verify` checks the chain against it."""
    from chalicelib.governance.decision_log.anchor import build_head_anchor

    return build_head_anchor(c.settings)


def _build_rollout(c: Container) -> Any:
    """The progressive rollout every capability asks (live for THIS customer, or shadow?) and feeds
    (guard observations). Observations and history in the container's SQLite file locally and in the
    shared DynamoDB table in AWS; there the stage is the SSM parameter ``<controls prefix>rollout/<capability>``
    (``DA_CONTROLS_SOURCE=ssm``). A capability never staged follows this container's kill switch."""
    from chalicelib.governance.rollout import build_rollout
    from chalicelib.governance.rollout_gate import RolloutGate

    return RolloutGate(build_rollout(c.settings, controls=c.get("controls"), decision_log=c.get("decision_log"),
                                     metrics=c.get("metrics"), clock=c.clock))


def _build_policy_store(c: Container) -> Any:
    from chalicelib.governance.policy import PolicyStore

    return PolicyStore.from_env()


def _build_controls(c: Container) -> Any:
    from chalicelib.governance.controls import Controls

    return Controls.from_env()


def _build_cost(c: Container) -> Any:
    from chalicelib.fraud.adapters import model_prices
    from chalicelib.governance.cost import DEFAULT_PRICES, CostMeter

    return CostMeter.from_env(prices={**DEFAULT_PRICES, **model_prices()})


def _build_idempotency(c: Container) -> Any:
    from chalicelib.storage.idempotency import IdempotencyGuard, build_idempotency_store

    return IdempotencyGuard(build_idempotency_store(c.settings))


def _build_late_outcomes(c: Container) -> Any:
    """The mailbox where a turn that overran its budget leaves what it did, for the next turn: its
    own store (SQLite file / DynamoDB table with TTL), so the note outlives this container."""
    from chalicelib.storage.late_notes import build_late_notes

    return build_late_notes(c.settings)


def _build_comprehend_tier(c: Container) -> Any:
    """The paid NLP tier with this container's log and controls; None means local triage only."""
    from nlp.tiering import build_container_tier

    try:
        return build_container_tier(c.settings, decision_log=c.get("decision_log"), controls=c.get("controls"),
                                    rollout=c.get("rollout"))
    except Exception:
        logger.exception("cannot build the Comprehend tier: this container triages locally")
        return None


def _build_triage_fn(c: Container) -> Callable[..., Any]:
    """Email triage on the container's tier: the root hands the nlp function to the email service
    (chalicelib never imports nlp, and no setting names a module)."""
    from nlp.triage import triage_email

    return functools.partial(triage_email, comprehend=c.get("comprehend_tier"))


def _build_chat_triage(c: Container) -> Callable[..., Any]:
    """Chat text triage (the fallback's) on the same tier as the email's."""
    from nlp.triage import triage_text

    return functools.partial(triage_text, comprehend=c.get("comprehend_tier"))


def _build_redact_fn(c: Container) -> Callable[[str], Any]:
    from nlp.redact import redact

    return redact


def _build_otp_sender(c: Container) -> Any:
    from chalicelib.identity import LocalOutboxSender, SnsSmsSender

    if c.settings.backend == "sqlite":
        return LocalOutboxSender(c.settings.otp_outbox_path)
    from chalicelib.core.aws import client as aws_client

    return SnsSmsSender(aws_client("sns", c.settings))


def _build_notifier(c: Container) -> Any:
    from chalicelib.fraud.service import build_notifier

    return build_notifier(c.settings)


def _build_governance(c: Container) -> Any:
    from intents.governance_gate import Governance

    return Governance(c.get("decision_log"), c.get("store"), c.clock, policy_store=c.get("policy_store"),
                      controls=c.get("controls"), rollout=c.get("rollout"))


def _build_chat(c: Container) -> tuple[Any, Any]:
    """(the handlers' services, the identity resolver): what the Lex hook needs for a turn."""
    from chalicelib.core import log_guard
    from chalicelib.identity import IdentityResolver, StepUpService, TokenSigner
    from intents.dialog import Services

    log_guard.install()  # every log line of this container passes the PAN/PII guard
    settings = c.settings
    otp_sender = c.get("otp_sender")
    step_up = StepUpService(c.get("store"), settings, otp_sender, clock=c.clock)

    def secrets_client():
        from chalicelib.core.aws import client as aws_client

        return aws_client("secretsmanager", settings)

    # The local emulator mints "local" tokens; only the SQLite backend accepts them.
    local = ("local",) if settings.backend == "sqlite" else ()
    signer = TokenSigner.from_settings(settings, secrets_client_factory=secrets_client, extra_audiences=local)
    services = Services(store=c.get("store"), step_up=step_up, clock=c.clock, governance=c.get("governance"),
                        triage=c.get("chat_triage"))
    services.signer = signer  # type: ignore[attr-defined]
    services.otp_sender = otp_sender  # type: ignore[attr-defined]
    services.turn_pool = c.get("turn_pool")  # type: ignore[attr-defined]  # the hook runs turns here
    services.metrics = c.get("metrics")  # type: ignore[attr-defined]  # containment, time to human
    services.tickets = c.get("tickets")  # type: ignore[attr-defined]  # escalations become agents' tickets
    services.cards = c.get("cards")  # type: ignore[attr-defined]  # freeze/block through card management
    services.transcripts = c.get("transcripts")  # type: ignore[attr-defined]  # both sides of every turn, redacted
    services.late_outcomes = c.get("late_outcomes")  # type: ignore[attr-defined]  # overrun turns, told next turn
    return services, IdentityResolver(signer, step_up)


def _build_agent_api(c: Container) -> Any:
    """(authenticator, agent service) for the agent REST API and the console."""
    from chatbot.agent_api import build_agent_api

    return build_agent_api(c.get("chat")[0], c.settings)


def _build_cards(c: Container) -> Any:
    """Card management (freeze, block): the local fake over the store; the bank's API in production
    implements the same interface (chalicelib.fraud.actions.CardManagement)."""
    from chalicelib.fraud.actions import LocalCardManagement

    return LocalCardManagement(c.get("store"))


def _build_tickets(c: Container) -> Any:
    """The ticket desk: escalations become routed tickets with their redacted context bundle."""
    from chalicelib.tickets.desk import build_ticket_desk
    from intents.ticketing import redact_text

    return build_ticket_desk(c.settings, c.get("store"), c.clock, redact=redact_text, idempotency=c.get("idempotency"))


def _build_escalation_worker(c: Container) -> Any:
    """The escalation queue's consumer: the desk's worker (same store, topics, guard and redactor)."""
    return c.get("tickets").worker


def _build_transcripts(c: Container) -> Any:
    """Every chat turn, redacted, for the agent's ticket (the hook records, the desk reads)."""
    from chalicelib.transcripts.factory import build_transcript_recorder
    from intents.ticketing import redact_text

    return build_transcript_recorder(c.settings, c.clock, redact_text)


def _build_turn_pool(c: Container) -> cf.ThreadPoolExecutor:
    """Owned by the container, not the hook module: a forked child then builds its own pool instead
    of inheriting one whose threads did not survive the fork."""
    return cf.ThreadPoolExecutor(max_workers=TURN_WORKERS, thread_name_prefix="lex-turn")


def _build_s3(c: Container) -> Any:
    from chalicelib.ingest.service import s3_client

    return s3_client(c.settings)


def _build_email_followup(c: Container) -> Any:
    """What an email leads to (case, ticket, acknowledgment), with this container's ticket desk."""
    from chalicelib.ingest.followup import build_email_followup

    return build_email_followup(c.settings, store=c.get("store"), decision_log=c.get("decision_log"),
                                desk=c.get("tickets"), idempotency=c.get("idempotency"),
                                policy_store=c.get("policy_store"), controls=c.get("controls"),
                                rollout=c.get("rollout"), clock=c.clock, metrics=c.get("metrics"))


def _build_email_ingest(c: Container) -> Any:
    from chalicelib.ingest.service import build_email_ingest_service

    return build_email_ingest_service(
        c.settings, s3=c.get("s3"), store=c.get("store"), decision_log=c.get("decision_log"),
        idempotency=c.get("idempotency"), triage_fn=c.get("triage_fn"), redact_fn=c.get("redact_fn"),
        policy_store=c.get("policy_store"), clock=c.clock, followup=c.get("email_followup"))


def _build_card_events(c: Container) -> Any:
    from chalicelib.fraud.service import build_processor

    return build_processor(c.settings, store=c.get("store"), decision_log=c.get("decision_log"),
                           notifier=c.get("notifier"), metrics=c.get("metrics"), cost=c.get("cost"),
                           rollout=c.get("rollout"))


def _build_webchat(c: Container) -> Any:
    from chatbot.emulator import local_emulator
    from chatbot.webchat import WebChat

    return WebChat(factory=functools.partial(local_emulator, c), services=c.get("chat")[0])


_BUILDERS: dict[str, Callable[[Container], Any]] = {
    "store": _build_store,
    "metrics": _build_metrics,
    "decision_log": _build_decision_log,
    "decision_anchor": _build_decision_anchor,
    "policy_store": _build_policy_store,
    "rollout": _build_rollout,
    "controls": _build_controls,
    "cost": _build_cost,
    "idempotency": _build_idempotency,
    "late_outcomes": _build_late_outcomes,
    "comprehend_tier": _build_comprehend_tier,
    "triage_fn": _build_triage_fn,
    "chat_triage": _build_chat_triage,
    "redact_fn": _build_redact_fn,
    "otp_sender": _build_otp_sender,
    "notifier": _build_notifier,
    "governance": _build_governance,
    "chat": _build_chat,
    "turn_pool": _build_turn_pool,
    "s3": _build_s3,
    "email_followup": _build_email_followup,
    "email_ingest": _build_email_ingest,
    "tickets": _build_tickets,
    "transcripts": _build_transcripts,
    "escalation_worker": _build_escalation_worker,
    "cards": _build_cards,
    "agent_api": _build_agent_api,
    "card_events": _build_card_events,
    "webchat": _build_webchat,
}


def build_services(settings: Any = None, store: Any = None, clock: Callable[[], datetime] = utcnow,
                   otp_sender: Any = None) -> tuple[Any, Any]:
    """(services, identity resolver) of a fresh container: tests and CLIs that drive the hook
    directly pass their own store, clock and OTP sender."""
    given = {k: v for k, v in (("store", store), ("otp_sender", otp_sender)) if v is not None}
    return Container(settings, clock=clock, **given).get("chat")


def email_ingest_cli(argv: list[str] | None = None) -> int:
    """``python -m chalicelib.email_ingest FILE.eml|DIR ...``: the email entry point's service, built
    by this root over a bucket of local files, so the CLI triages exactly as the SQS consumer does."""
    from chalicelib.ingest.email_ingest import main

    return main(argv, build_service=lambda settings, s3: Container(settings, s3=s3).get("email_ingest"))
