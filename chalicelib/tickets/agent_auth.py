"""Who is calling the agent API, and what they may touch.

Locally the bearer tokens are the setting ``DA_AGENT_TOKENS`` (JSON); in AWS a Cognito user-pool
authorizer sits in front and its claims become the same ``AgentPrincipal``. The errors carry the
HTTP status the API answers with, so the routes stay a switchboard.
"""
from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from typing import Any, Mapping

from chalicelib.tickets.model import Queue

ROLES = ("agent", "supervisor")


class AgentError(Exception):
    status = 400
    code = "agent.bad_request"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict:
        return {"error": self.code, "message": self.message}


class BadRequest(AgentError):
    pass


class Unauthorized(AgentError):
    status, code = 401, "agent.unauthorized"


class Forbidden(AgentError):
    status, code = 403, "agent.forbidden"


class NotFoundError(AgentError):
    status, code = 404, "agent.not_found"


class Conflict(AgentError):
    status, code = 409, "agent.conflict"


@dataclass(frozen=True)
class AgentPrincipal:
    agent: str
    role: str
    queues: frozenset[Queue]

    @property
    def supervisor(self) -> bool:
        return self.role == "supervisor"

    @property
    def actor(self) -> str:
        return f"agent:{self.agent}"

    def may_work(self, queue: Queue | str) -> bool:
        return self.supervisor or Queue(queue) in self.queues

    def require_queue(self, queue: Queue | str) -> None:
        if not self.may_work(queue):
            raise Forbidden(f"agent {self.agent} does not work the {Queue(queue).value} queue")

    def require_supervisor(self, what: str) -> None:
        if not self.supervisor:
            raise Forbidden(f"only a supervisor may {what}")


def principal_from(entry: Mapping[str, Any], where: str = "token") -> AgentPrincipal:
    """An entry of DA_AGENT_TOKENS (or Cognito claims mapped to the same shape), checked strictly:
    a misconfigured token must fail loudly at start, not grant a wider scope."""
    agent, role, queues = entry.get("agent"), entry.get("role", "agent"), entry.get("queues", [])
    if not isinstance(agent, str) or not agent.strip():
        raise ValueError(f"{where}: 'agent' must be a non-empty string")
    if role not in ROLES:
        raise ValueError(f"{where}: 'role' must be one of {', '.join(ROLES)}")
    try:
        parsed = frozenset(Queue(q) for q in queues)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: 'queues' must list known queues ({', '.join(q.value for q in Queue)})") from None
    return AgentPrincipal(agent.strip(), role, parsed)


def parse_agent_tokens(raw: str | None) -> dict[str, AgentPrincipal]:
    if not raw:
        return {}
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"DA_AGENT_TOKENS is not valid JSON ({exc.msg})") from None
    if not isinstance(doc, dict):
        raise ValueError("DA_AGENT_TOKENS must be a JSON object of token -> agent")
    return {tok: principal_from(entry if isinstance(entry, dict) else {}, "DA_AGENT_TOKENS entry") for tok, entry in doc.items()}


class TokenAuthenticator:
    def __init__(self, tokens: Mapping[str, AgentPrincipal]):
        self.tokens = dict(tokens)

    def authenticate(self, authorization: str | None) -> AgentPrincipal:
        """``Authorization: Bearer <token>``; compared in constant time (a bearer credential)."""
        if not authorization or not authorization.startswith("Bearer "):
            raise Unauthorized("send 'Authorization: Bearer <agent token>'")
        presented = authorization[len("Bearer "):].strip()
        for token, principal in self.tokens.items():
            if hmac.compare_digest(token.encode(), presented.encode()):
                return principal
        raise Unauthorized("unknown agent token")


class CognitoClaimsAuthenticator:
    """In AWS, API Gateway's Cognito user-pool authorizer has already checked the JWT; its claims
    name the agent (``cognito:username``), the role (``custom:role``) and the queues
    (``custom:queues``, comma-separated). No claims means the request bypassed the authorizer."""

    def authenticate_claims(self, claims: Mapping[str, Any] | None) -> AgentPrincipal:
        if not claims or not claims.get("cognito:username"):
            raise Unauthorized("no verified Cognito identity on the request")
        queues = [q.strip() for q in str(claims.get("custom:queues", "")).split(",") if q.strip()]
        try:
            return principal_from({"agent": claims["cognito:username"], "role": claims.get("custom:role", "agent"),
                                   "queues": queues}, "Cognito claims")
        except ValueError as exc:
            raise Forbidden(str(exc)) from None
