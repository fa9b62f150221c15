"""Agent REST API (JSON), a Chalice blueprint registered by app.py. Each route authenticates,
calls one AgentService method and serialises; errors carry their status (401/403/400/404/409)."""
from __future__ import annotations

import json

from chalice import Blueprint, CognitoUserPoolAuthorizer, Response

from chalicelib.core.settings import get_settings

agent_routes = Blueprint(__name__)
JSON = ["application/json"]
# Read at import: Chalice needs the authorizer when it packages the app (None locally: bearer tokens).
_pool = get_settings().agent_user_pool_arn
authorizer = CognitoUserPoolAuthorizer("agents", provider_arns=[_pool]) if _pool else None


def _who(auth, request):
    """Cognito claims when the authorizer is configured, the local bearer token otherwise."""
    if _pool:
        from chalicelib.tickets.agent_auth import CognitoClaimsAuthenticator

        claims = ((request.context or {}).get("authorizer") or {}).get("claims")
        return CognitoClaimsAuthenticator().authenticate_claims(claims)
    return auth.authenticate(request.headers.get("authorization"))


def _run(action):
    from chalicelib.tickets.agent_auth import AgentError, BadRequest
    from chatbot.agent_api import get_agent_api

    auth, service = get_agent_api(agent_routes)
    request = agent_routes.current_request
    try:
        who = _who(auth, request)
        return Response(body=action(service, who, request), status_code=200)
    except AgentError as exc:
        return Response(body=exc.to_dict(), status_code=exc.status)
    except json.JSONDecodeError as exc:  # a body that is not JSON
        return Response(body=BadRequest(f"the body must be valid JSON ({exc.msg})").to_dict(), status_code=400)


def _body(request):
    raw = request.raw_body or b""
    return json.loads(raw) if raw.strip() else None


def _resolved(result: dict) -> dict:
    from chatbot.agent_api import ticket_json

    return {"ticket": ticket_json(result["ticket"], full=True), "case": result["case"],
            "customer_notified": result["email"] is not None}


@agent_routes.route("/agent/tickets", methods=["GET"], authorizer=authorizer)
def list_tickets():
    from chatbot.agent_api import ticket_json

    def act(service, who, request):
        q = request.query_params or {}
        return {"tickets": [ticket_json(t) for t in service.list_tickets(who, q.get("queue"), q.get("status"))]}
    return _run(act)


@agent_routes.route("/agent/tickets/{ticket_id}", methods=["GET"], authorizer=authorizer)
def get_ticket(ticket_id):
    from chatbot.agent_api import ticket_json

    return _run(lambda service, who, request: ticket_json(service.ticket(who, ticket_id), full=True))


@agent_routes.route("/agent/tickets/{ticket_id}/claim", methods=["POST"], authorizer=authorizer)
def claim_ticket(ticket_id):
    from chatbot.agent_api import ticket_json

    return _run(lambda service, who, request: ticket_json(service.claim(who, ticket_id), full=True))


@agent_routes.route("/agent/tickets/{ticket_id}/notes", methods=["POST"], content_types=JSON,
                     authorizer=authorizer)
def note_ticket(ticket_id):
    from chatbot.agent_api import ticket_json

    return _run(lambda service, who, request: ticket_json(service.note(who, ticket_id, _body(request)), full=True))


@agent_routes.route("/agent/tickets/{ticket_id}/resolve", methods=["POST"], content_types=JSON,
                     authorizer=authorizer)
def resolve_ticket(ticket_id):
    return _run(lambda service, who, request: _resolved(service.resolve(who, ticket_id, _body(request))))


@agent_routes.route("/agent/cases/{case_id}", methods=["GET"], authorizer=authorizer)
def get_case(case_id):
    return _run(lambda service, who, request: service.cases.view(service.cases.case(who, case_id)))


@agent_routes.route("/agent/cases/{case_id}/transition", methods=["POST"], content_types=JSON,
                     authorizer=authorizer)
def transition_case(case_id):
    return _run(lambda service, who, request: service.cases.transition(who, case_id, _body(request)))
