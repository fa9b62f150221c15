"""Builds the handlers' dependencies once per container (lazily: cold start stays cheap)."""
from __future__ import annotations

import threading
from datetime import datetime, timezone

from intents.dialog import Services

_lock = threading.Lock()
_services: Services | None = None
_resolver = None


def _clock() -> datetime:
    return datetime.now(timezone.utc)


def build_services(settings=None, store=None, clock=_clock, otp_sender=None) -> tuple[Services, object]:
    """(services, identity resolver) for the given settings; tests pass their own store/clock."""
    from chalicelib.identity import IdentityResolver, LocalOutboxSender, SnsSmsSender, StepUpService, TokenSigner
    from chalicelib.storage import get_store
    from chalicelib.core.settings import get_settings
    from intents._governance import Governance

    from chalicelib.core import log_guard

    log_guard.install()  # every log line of this container passes the PAN/PII guard
    settings = settings or get_settings()
    store = store or get_store(settings)
    if otp_sender is None:
        if settings.backend == "sqlite":
            otp_sender = LocalOutboxSender(settings.otp_outbox_path)
        else:

            from chalicelib.core.aws import client as aws_client
            otp_sender = SnsSmsSender(aws_client("sns", settings))
    step_up = StepUpService(store, settings, otp_sender, clock=clock)

    def secrets_client():
        from chalicelib.core.aws import client as aws_client

        return aws_client("secretsmanager", settings)

    signer = TokenSigner.from_settings(settings, secrets_client_factory=secrets_client)
    services = Services(store=store, step_up=step_up, clock=clock, governance=Governance.from_settings(settings, store, clock))
    services.signer = signer  # type: ignore[attr-defined]
    services.otp_sender = otp_sender  # type: ignore[attr-defined]
    from chalicelib.tickets.desk import build_ticket_desk
    from intents.ticketing import redact_text

    services.tickets = build_ticket_desk(settings, store, clock, redact=redact_text)  # type: ignore[attr-defined]
    return services, IdentityResolver(signer, step_up)


def get_services() -> tuple[Services, object]:
    global _services, _resolver
    if _services is None:
        with _lock:
            if _services is None:
                _services, _resolver = build_services()
    return _services, _resolver


def reset_services() -> None:
    """For tests and the local server after re-seeding."""
    global _services, _resolver
    with _lock:
        _services, _resolver = None, None
