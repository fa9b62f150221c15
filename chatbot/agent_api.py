"""The agent API's wiring: one AgentService per container, built from the composition root's
services, and the JSON shapes the routes return (chatbot/agent_routes.py, chatbot/console)."""
from __future__ import annotations

import threading

_lock = threading.Lock()
_built: tuple | None = None


def build_agent_api(services, settings):
    """(authenticator, service) for these services; tests pass their World's."""
    from chalicelib.outbox import LocalOutbox
    from chalicelib.tickets.agent_auth import TokenAuthenticator, parse_agent_tokens
    from chalicelib.tickets.agent_service import AgentService
    from chalicelib.tickets.notify import CustomerMailer, SesEmailNotifier
    from intents.ticketing import redact_text

    if settings.backend == "sqlite" or settings.notifier == "outbox":
        notifier = LocalOutbox(settings.outbox_dir)
    else:
        from chalicelib.core.aws import client as aws_client

        notifier = SesEmailNotifier(aws_client("ses", settings), settings.email_sender)
    raw = settings.agent_tokens.get_secret_value() if settings.agent_tokens else None
    auth = TokenAuthenticator(parse_agent_tokens(raw))
    service = AgentService(services.tickets, services.store, services.governance.log,
                           CustomerMailer(notifier, redact_text), services.clock, redact_text)
    return auth, service


def get_agent_api():
    global _built
    if _built is None:
        with _lock:
            if _built is None:
                from chalicelib.core.settings import get_settings
                from chatbot.services import get_services

                _built = build_agent_api(get_services()[0], get_settings())
    return _built


def reset_agent_api() -> None:
    global _built
    with _lock:
        _built = None


def ticket_json(ticket, full: bool = False) -> dict:
    data = ticket.model_dump(mode="json")
    if not full:
        data.pop("context", None)
        data.pop("notes", None)
    return data
