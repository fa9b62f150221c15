"""The agent API's wiring: one AgentService per container, built from the composition root's
services, and the JSON shapes the routes return (chatbot/agent_routes.py, chatbot/console)."""
from __future__ import annotations

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
                           CustomerMailer(notifier, redact_text), services.clock, redact_text,
                           rollout=getattr(services.governance, "rollout", None))
    return auth, service


def get_agent_api(blueprint):
    """(authenticator, service) of the running app's container (app.py hands its composition root to
    the app as ``app.container``): built once per container, like every other service."""
    return blueprint.current_app.container.get("agent_api")


def ticket_json(ticket, full: bool = False) -> dict:
    """A ticket as the API returns it, times in the one outbound form (to the second)."""
    from chalicelib.core.clock import outbound_times

    data = outbound_times(ticket.model_dump(mode="json"))
    if not full:
        data.pop("context", None)
        data.pop("notes", None)
    return data
