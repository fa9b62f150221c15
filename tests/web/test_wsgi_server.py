"""The local stack under a real multi-threaded WSGI server (waitress): Chalice routes as WSGI, and a server that
answers 503 with Retry-After when it is full instead of letting a client time out in a queue it cannot see."""
from __future__ import annotations

import http.client
import importlib.util
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from chalice import Chalice

from chatbot.wsgi import SERVER_BUSY, Admission, ChaliceWsgi

ROOT = Path(__file__).resolve().parents[2]


def call(app, method="GET", path="/", body: bytes | None = None, headers: dict | None = None):
    """One request straight through a WSGI callable: (status code, headers dict, body bytes)."""
    import io
    from wsgiref.util import setup_testing_defaults

    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "wsgi.input": io.BytesIO(body or b"")}
    if body is not None:
        environ["CONTENT_LENGTH"] = str(len(body))
        environ["CONTENT_TYPE"] = "application/json"
    for k, v in (headers or {}).items():
        environ["HTTP_" + k.upper().replace("-", "_")] = v
    setup_testing_defaults(environ)
    seen = {}

    def start_response(status, hdrs, exc_info=None):
        seen["status"], seen["headers"] = int(status.split()[0]), dict(hdrs)

    data = b"".join(app(environ, start_response))
    return seen["status"], seen["headers"], data


def small_app() -> Chalice:
    app = Chalice(app_name="wsgi-test")

    @app.route("/echo", methods=["POST"], content_types=["application/json"])
    def echo():
        return {"got": app.current_request.json_body, "who": app.current_request.headers.get("x-who")}

    @app.route("/ping")
    def ping():
        return {"ok": True}

    return app


def test_chalice_routes_answer_through_wsgi():
    """Given a Chalice app wrapped as WSGI / When a JSON body is posted and a GET is made / Then the route's JSON
    comes back with its status and a JSON content type, and headers reach the route."""
    wsgi = ChaliceWsgi(small_app())
    status, headers, body = call(wsgi, "POST", "/echo", json.dumps({"a": 1}).encode(), {"X-Who": "alice"})
    assert status == 200 and json.loads(body) == {"got": {"a": 1}, "who": "alice"}
    assert headers["Content-Type"] == "application/json"
    assert call(wsgi, "GET", "/ping")[0] == 200


def test_unknown_route_and_bad_json_are_clear_errors():
    """Given the wrapped app / When an unknown path is asked or a body that is not JSON is posted / Then 403 (as API
    Gateway answers an unknown route) and 400, never a server crash."""
    wsgi = ChaliceWsgi(small_app())
    assert call(wsgi, "GET", "/nope")[0] == 403
    assert call(wsgi, "POST", "/echo", b"{not json")[0] == 400


def test_concurrent_requests_each_see_their_own_body():
    """Given the wrapped app called from 8 threads at once / When each posts its own body / Then each gets its own
    body back (current_request is per thread, as a multi-threaded server needs)."""
    wsgi = ChaliceWsgi(small_app())
    results, barrier = {}, threading.Barrier(8)

    def one(i):
        barrier.wait()
        for _ in range(20):
            status, _, body = call(wsgi, "POST", "/echo", json.dumps({"i": i}).encode())
            results.setdefault(i, set()).add(json.loads(body)["got"]["i"])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == {i: {i} for i in range(8)}


class Gate:
    """A WSGI app that holds every request until ``release`` is set (a slow turn)."""

    def __init__(self):
        self.release = threading.Event()
        self.entered = threading.Semaphore(0)

    def __call__(self, environ, start_response):
        self.entered.release()
        self.release.wait(20)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"done"]


def test_full_server_sheds_with_503_and_retry_after():
    """Given 1 slot and 1 waiting place, the slot held by a slow request and the place taken / When a third request
    arrives / Then it is answered 503 at once with Retry-After and code server_busy while the others still run;
    and When the slow request finishes / Then the waiting one is served."""
    gate = Gate()
    adm = Admission(gate, max_active=1, max_waiting=1, wait_s=20, retry_after_s=3)
    out = {}
    first = threading.Thread(target=lambda: out.setdefault("first", call(adm)))
    first.start()
    assert gate.entered.acquire(timeout=10)
    second = threading.Thread(target=lambda: out.setdefault("second", call(adm)))
    second.start()
    while adm.waiting == 0:
        threading.Event().wait(0.01)
    status, headers, body = call(adm)
    assert not gate.release.is_set() and status == 503
    assert headers["Retry-After"] == "3" and json.loads(body)["code"] == SERVER_BUSY
    gate.release.set()
    first.join(10)
    second.join(10)
    assert out["first"][0] == 200 and out["second"][0] == 200
    assert adm.counts["shed_full"] == 1 and adm.counts["admitted"] == 2 and adm.active == 0


def test_a_request_that_waited_too_long_is_told_503():
    """Given 1 slot held by a slow request and a waiting time of 0.2 s / When another request arrives / Then it is
    answered 503 with Retry-After once its wait is over, never left hanging."""
    gate = Gate()
    adm = Admission(gate, max_active=1, max_waiting=4, wait_s=0.2)
    holder = threading.Thread(target=lambda: call(adm))
    holder.start()
    assert gate.entered.acquire(timeout=10)
    status, headers, body = call(adm)
    gate.release.set()
    holder.join(10)
    assert status == 503 and "Retry-After" in headers and "within 0.2 s" in json.loads(body)["error"]
    assert adm.counts["shed_waited"] == 1


def test_bad_limits_are_refused():
    """Given limits that cannot work (no slot, a negative queue) / When admission is built / Then ValueError."""
    with pytest.raises(ValueError):
        Admission(Gate(), max_active=0, max_waiting=1)
    with pytest.raises(ValueError):
        Admission(Gate(), max_active=1, max_waiting=-1)


def test_waitress_serves_503_when_full_over_loopback():
    """Given waitress (8 threads) serving admission of 1 slot + 1 waiting place over a slow app on loopback / When 4
    clients connect at once / Then 2 get 503 with Retry-After before the slow request is released, and the other 2
    are served 200 after it."""
    import waitress

    gate = Gate()
    adm = Admission(gate, max_active=1, max_waiting=1, wait_s=20)
    server = waitress.create_server(adm, host="127.0.0.1", port=0, threads=8)
    stop = threading.Event()

    def serve():  # waitress's run() has no stop: poll its loop until told, then close from this side
        while not stop.is_set():
            server.asyncore.loop(timeout=0.05, map=server._map, count=1)

    runner = threading.Thread(target=serve, daemon=True)
    runner.start()
    statuses, lock = [], threading.Lock()

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", server.effective_port, timeout=30)
        conn.request("GET", "/")
        resp = conn.getresponse()
        with lock:
            statuses.append((resp.status, resp.getheader("Retry-After"), gate.release.is_set()))
        conn.close()

    clients = [threading.Thread(target=client) for _ in range(4)]
    try:
        for c in clients:
            c.start()
        for _ in range(1000):
            with lock:
                if len(statuses) >= 2:
                    break
            threading.Event().wait(0.01)
        gate.release.set()
        for c in clients:
            c.join(30)
    finally:
        gate.release.set()
        stop.set()
        runner.join(10)
        server.close()
        server.task_dispatcher.shutdown(timeout=5)
    shed = [s for s in statuses if s[0] == 503]
    assert len(shed) == 2 and all(retry == "1" and not released for _, retry, released in shed)
    assert sorted(s[0] for s in statuses) == [200, 200, 503, 503]


def _serve_module():
    spec = importlib.util.spec_from_file_location("serve_wsgi", ROOT / "scripts" / "serve_wsgi.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_server_refuses_a_non_loopback_address():
    """Given the serve script / When asked to listen on 0.0.0.0 or a LAN address / Then it refuses (exit 2)."""
    serve = _serve_module()
    assert serve.main(["--host", "0.0.0.0"]) == 2
    assert serve.main(["--host", "192.168.1.10"]) == 2
    assert serve.loopback("127.0.0.1") and serve.loopback("::1") and serve.loopback("localhost")


def test_the_served_local_stack_answers_a_chat_turn(tmp_path):
    """Given the real app served by scripts/serve_wsgi.py on loopback over a seeded store / When a signed-in demo
    customer sends two turns of one conversation / Then both are 200 with the same session and the second continues
    the first; health answers 200."""
    env = {**os.environ, "DA_BACKEND": "sqlite", "DA_SQLITE_PATH": str(tmp_path / "s.db"), "DA_METRICS": "off",
           "DA_OTP_OUTBOX_PATH": str(tmp_path / "otp.log"), "DA_OUTBOX_DIR": str(tmp_path / "outbox"),
           "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "chalicelib.demo_data", "--reset"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    proc = subprocess.Popen([sys.executable, "scripts/serve_wsgi.py", "--port", "0"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("serving on http://127.0.0.1:"), line
        port = int(line.split()[2].rsplit(":", 1)[1])

        def post(body):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request("POST", "/api/chat", json.dumps(body), {"Content-Type": "application/json"})
            resp = conn.getresponse()
            return resp.status, json.loads(resp.read())

        status, first = post({"text": "show me the blue bottle charge", "customer": "demo-bob"})
        assert status == 200 and first["turn"]["slot_to_elicit"] == "TransactionChoice"
        status, second = post({"text": "1", "customer": "demo-bob", "session_id": first["session_id"]})
        assert status == 200 and second["session_id"] == first["session_id"]
        assert "Blue Bottle" in " ".join(second["turn"]["bot"])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/api/health")
        assert conn.getresponse().status == 200
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "stopped:" in out
