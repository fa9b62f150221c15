"""The agent console at /console: plain HTML forms over the same AgentService as the JSON API, so
the rules (who may see and do what) are enforced once.

Only served with the local channel on (``make run``); in AWS agents use the API behind Cognito.
The agent's token lives in an HttpOnly, SameSite=Strict cookie: no script can read it and no other
site can post a form with it. Every POST answers with a redirect (303), so a reload never repeats
an action.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qs, quote

from chalice import Blueprint, NotFoundError, Response

console_routes = Blueprint(__name__)
COOKIE = "da_agent"
FORM = ["application/x-www-form-urlencoded"]
OUTCOME_LABELS = {"helped": "Customer helped", "no_action": "No action needed", "resolved_won": "Dispute won (customer's favour)",
                  "resolved_lost": "Dispute lost", "withdrawn": "Dispute withdrawn"}


@lru_cache(maxsize=1)
def _env():
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(Path(__file__).with_name("templates")), autoescape=select_autoescape(["html"]))
    env.filters["label"] = lambda v: str(v or "").replace("_", " ")
    return env


def _page(name: str, http_status: int = 200, **values) -> Response:
    html = _env().get_template(name).render(outcomes=OUTCOME_LABELS, **values)
    return Response(body=html, status_code=http_status, headers={"Content-Type": "text/html; charset=utf-8",
                                                              "Cache-Control": "no-store"})


def _redirect(location: str, cookie: str | None = None) -> Response:
    headers = {"Location": location}
    if cookie is not None:
        headers["Set-Cookie"] = f"{COOKIE}={quote(cookie)}; Path=/; HttpOnly; SameSite=Strict" + ("" if cookie else "; Max-Age=0")
    return Response(body="", status_code=303, headers=headers)


def _local():
    from chalicelib.core.settings import get_settings

    if not get_settings().local_channel:
        raise NotFoundError("not found")


def _form() -> dict[str, str]:
    raw = (console_routes.current_request.raw_body or b"").decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}


def _token() -> str | None:
    from http.cookies import SimpleCookie
    from urllib.parse import unquote

    jar = SimpleCookie(console_routes.current_request.headers.get("cookie", ""))
    return unquote(jar[COOKIE].value) if COOKIE in jar else None


def _with_agent(action):
    """Authenticate from the cookie, run ``action(service, who)``; API errors become the page's
    message with the same status the API would give."""
    from chalicelib.tickets.agent_auth import AgentError, Unauthorized
    from chatbot.agent_api import get_agent_api

    _local()
    auth, service = get_agent_api(console_routes)
    token = _token()
    try:
        who = auth.authenticate(f"Bearer {token}" if token else None)
    except Unauthorized:
        if token is None:  # not an error: this is the sign-in page
            return _page("login.html")
        return _page("login.html", 401, error="That token is no longer valid.")
    try:
        return action(service, who)
    except AgentError as exc:
        return _page("error.html", exc.status, who=who, error=exc.message)


@console_routes.route("/console", methods=["GET"])
def console_queue():
    from chalicelib.tickets.model import Queue, TicketStatus

    def act(service, who):
        q = console_routes.current_request.query_params or {}
        queue, status = q.get("queue") or None, q.get("status", "open") or None
        tickets = service.list_tickets(who, queue, status)
        queues = [x.value for x in Queue if who.may_work(x)]
        return _page("queue.html", who=who, tickets=tickets, queues=queues, statuses=[s.value for s in TicketStatus],
                     queue=queue or "", status_filter=status or "", now=service.clock())
    return _with_agent(act)


@console_routes.route("/console/login", methods=["POST"], content_types=FORM)
def console_login():
    from chalicelib.tickets.agent_auth import Unauthorized
    from chatbot.agent_api import get_agent_api

    _local()
    token = _form().get("token", "").strip()
    try:
        get_agent_api(console_routes)[0].authenticate(f"Bearer {token}")
    except Unauthorized:
        return _page("login.html", 401, error="That token is not valid.")
    return _redirect("/console", cookie=token)


@console_routes.route("/console/logout", methods=["POST"], content_types=FORM)
def console_logout():
    _local()
    return _redirect("/console", cookie="")


@console_routes.route("/console/tickets/{ticket_id}", methods=["GET"])
def console_ticket(ticket_id):
    def act(service, who):
        ticket = service.ticket(who, ticket_id)
        case = service.cases.view(service.cases.case(who, ticket.case_id)) if ticket.case_id else None
        done = (console_routes.current_request.query_params or {}).get("done")
        return _page("ticket.html", who=who, t=ticket, b=ticket.context, case=case, done=done)
    return _with_agent(act)


def _post_then_show(ticket_id: str, do, done: str):
    def act(service, who):
        do(service, who, _form())
        return _redirect(f"/console/tickets/{quote(ticket_id)}?done={done}")
    return _with_agent(act)


@console_routes.route("/console/tickets/{ticket_id}/claim", methods=["POST"], content_types=FORM)
def console_claim(ticket_id):
    return _post_then_show(ticket_id, lambda s, w, f: s.claim(w, ticket_id), "claimed")


@console_routes.route("/console/tickets/{ticket_id}/notes", methods=["POST"], content_types=FORM)
def console_note(ticket_id):
    return _post_then_show(ticket_id, lambda s, w, f: s.note(w, ticket_id, {"text": f.get("text", "")}), "noted")


@console_routes.route("/console/tickets/{ticket_id}/resolve", methods=["POST"], content_types=FORM)
def console_resolve(ticket_id):
    def do(service, who, f):
        body = {"outcome": f.get("outcome", ""), "message": f.get("message", "")}
        if f.get("assistant") in ("right", "wrong"):
            body["assistant_was_right"] = f["assistant"] == "right"
        service.resolve(who, ticket_id, body)
    return _post_then_show(ticket_id, do, "resolved")


@console_routes.route("/console/cases/{case_id}/transition", methods=["POST"], content_types=FORM)
def console_transition(case_id):
    def act(service, who):
        f = _form()
        service.cases.transition(who, case_id, {"to": f.get("to", ""), "reason": f.get("reason", "")})
        back = f.get("ticket_id", "")
        return _redirect(f"/console/tickets/{quote(back)}?done=moved" if back else "/console")
    return _with_agent(act)
