"""The local stack as a WSGI application, with admission control, for a real multi-threaded server.

Why: ``chalice local`` is a development server (one ``http.server`` thread per connection, no
limit, no queue): under load it neither holds up nor says that it cannot. Here the Chalice app's
routes (the web chat, the agent API and console, health) run through Chalice's own local gateway
(the same request/response conversion ``chalice local`` uses, authorizers included) as a WSGI
callable that waitress or gunicorn can serve with many threads (scripts/serve_wsgi.py).

Honest limits: :class:`Admission` lets at most ``max_active`` requests run (by default the
container's turn pool size: more would only queue inside the pool and spend their turn budget
waiting), keeps at most ``max_waiting`` more waiting for at most ``wait_s`` seconds, and answers
every other request at once with ``503`` and ``Retry-After`` (error code ``server_busy``), so a
client is told to come back instead of timing out in a queue nobody can see.
"""
from __future__ import annotations

import json
import threading
import time
from typing import Any, Callable, Iterable

SERVER_BUSY = "server_busy"

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict, StartResponse], Iterable[bytes]]


class ChaliceWsgi:
    """A Chalice app's REST routes as a WSGI application (through ``chalice.local.LocalGateway``).

    The app's class gains ``LocalChalice``'s thread-local ``current_request`` (as ``chalice local``
    does it): with one request per server thread, a shared ``current_request`` would hand one
    customer's body to another's route."""

    def __init__(self, chalice_app: Any, config: Any = None):
        from chalice.config import Config
        from chalice.local import CustomLocalChalice, LocalChalice, LocalGateway

        if not isinstance(chalice_app, LocalChalice):
            CustomLocalChalice.__bases__ = (LocalChalice, chalice_app.__class__)
            chalice_app.__class__ = CustomLocalChalice
        self.gateway = LocalGateway(chalice_app, config or Config.create(chalice_app=chalice_app))

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        from chalice.local import LocalGatewayException

        path = environ.get("PATH_INFO") or "/"
        if environ.get("QUERY_STRING"):
            path += "?" + environ["QUERY_STRING"]
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers[key.replace("_", "-").lower()] = environ[key]
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _reply(start_response, 400, {"error": "bad Content-Length", "code": "bad_request"})
        body = environ["wsgi.input"].read(length) if length > 0 else None
        try:
            response = self.gateway.handle_request(method=environ.get("REQUEST_METHOD", "GET"), path=path,
                                                   headers=headers, body=body)
        except LocalGatewayException as exc:
            out_headers = [(str(k), str(v)) for k, v in (exc.headers or {}).items()]
            start_response(f"{exc.CODE} {_reason(exc.CODE)}", out_headers)
            return [exc.body or b""]
        out_headers = [(str(k), str(v)) for k, v in (response.get("headers") or {}).items()]
        for k, values in (response.get("multiValueHeaders") or {}).items():
            out_headers += [(str(k), str(v)) for v in values]
        data = response.get("body") or b""
        if response.get("isBase64Encoded"):
            import base64

            data = base64.b64decode(data)
        elif isinstance(data, str):
            data = data.encode("utf-8")
        if not any(k.lower() == "content-type" for k, _ in out_headers):
            out_headers.append(("Content-Type", "application/json"))  # API Gateway's default, as in AWS
        status = int(response["statusCode"])
        start_response(f"{status} {_reason(status)}", out_headers)
        return [data]


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Status"


def _reply(start_response: StartResponse, status: int, doc: dict, extra: list | None = None) -> list[bytes]:
    data = json.dumps(doc).encode("utf-8")
    start_response(f"{status} {_reason(status)}",
                   [("Content-Type", "application/json"), ("Content-Length", str(len(data)))] + (extra or []))
    return [data]


class Admission:
    """At most ``max_active`` requests inside ``app``, at most ``max_waiting`` waiting up to ``wait_s``
    for a slot; any other request gets ``503 Retry-After: retry_after_s`` at once (never a silent wait)."""

    def __init__(self, app: WsgiApp, *, max_active: int, max_waiting: int, wait_s: float = 2.0,
                 retry_after_s: int = 1, clock: Callable[[], float] = time.monotonic):
        if max_active < 1 or max_waiting < 0 or wait_s < 0 or retry_after_s < 1:
            raise ValueError("max_active >= 1, max_waiting >= 0, wait_s >= 0, retry_after_s >= 1")
        self.app = app
        self.max_active, self.max_waiting, self.wait_s = max_active, max_waiting, wait_s
        self.retry_after_s = retry_after_s
        self.clock = clock
        self._cond = threading.Condition()
        self.active = 0
        self.waiting = 0
        self.counts = {"admitted": 0, "shed_full": 0, "shed_waited": 0, "peak_active": 0, "peak_waiting": 0}

    def _enter(self) -> str | None:
        """None once a slot is held; else why the request is shed (``full`` / ``waited``)."""
        with self._cond:
            if self.active < self.max_active and self.waiting == 0:
                return self._take()
            if self.waiting >= self.max_waiting:
                self.counts["shed_full"] += 1
                return "full"
            self.waiting += 1
            self.counts["peak_waiting"] = max(self.counts["peak_waiting"], self.waiting)
            deadline = self.clock() + self.wait_s
            try:
                while self.active >= self.max_active:
                    left = deadline - self.clock()
                    if left <= 0:
                        self.counts["shed_waited"] += 1
                        return "waited"
                    self._cond.wait(left)
            finally:
                self.waiting -= 1
            return self._take()

    def _take(self) -> None:
        self.active += 1
        self.counts["admitted"] += 1
        self.counts["peak_active"] = max(self.counts["peak_active"], self.active)
        return None

    def _leave(self) -> None:
        with self._cond:
            self.active -= 1
            self._cond.notify()

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        shed = self._enter()
        if shed is not None:
            detail = ("every worker is busy and the queue is full" if shed == "full"
                      else f"no worker came free within {self.wait_s:g} s")
            return _reply(start_response, 503, {"error": f"the server is at capacity: {detail}; retry later",
                                                "code": SERVER_BUSY},
                          [("Retry-After", str(self.retry_after_s))])
        try:
            # The route runs here, inside the slot: the body is a list built by ChaliceWsgi, so
            # nothing of the request's work is left for after the slot is given back.
            return list(self.app(environ, start_response))
        finally:
            self._leave()
