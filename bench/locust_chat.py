"""Locust users replaying chat conversations against the WSGI-served local web chat (bench/bench_load_wsgi.py).

Each user plays one conversation after another: a demo customer and a flow from bench/bench_load.py's
FLOWS, each turn a POST /api/chat carrying the session id the server returned, with LOCUST_THINK_S
("low,high", default 1-3 s: faster than people type, so a stress) between turns and conversations. What every
conversation ended in is tallied, not only timed:

- ``completed``: every turn answered 200 in the same session, no error reply, a known dialog action;
- ``shed``: the server said 503 + Retry-After and kept saying it after the retries (a known, honest end);
- ``error``: another status, a transport failure, or an error reply ("something went wrong", "taking longer");
- ``session_lost``: the server answered in a different session than the one the turn continued;
- ``unknown_state``: answered, but the last dialog action is not one Lex knows;
- ``cut``: still running when the time bound stopped the users (started - ended).

LOCUST_SUMMARY names the JSON file the tallies and the answered turns' latencies are written to at the end.
"""
from __future__ import annotations

import json
import os
import random
import time

from locust import HttpUser, between, events, task

from bench.bench_load import ERROR_MARKERS, FLOWS, KNOWN_ACTIONS

CUSTOMERS = ["demo-alice", "demo-bob"] + [f"cust-{i:04d}" for i in range(1, 59)]
MAX_503_RETRIES = 5
TALLY = {"started": 0, "completed": 0, "shed": 0, "error": 0, "session_lost": 0, "unknown_state": 0}
TURN_MS: list[float] = []
SHED_503 = [0]
SAMPLES: list[str] = []
_rng = random.Random(11)


def _sample(text: str) -> None:
    if len(SAMPLES) < 5:
        SAMPLES.append(text[:200])


def _think_range() -> tuple[float, float]:
    """LOCUST_THINK_S "low,high": seconds a customer takes to read and type before the next turn."""
    try:
        low, high = (float(x) for x in os.environ.get("LOCUST_THINK_S", "1,3").split(","))
    except ValueError:
        raise SystemExit("LOCUST_THINK_S must be 'low,high' seconds, e.g. '1,3'") from None
    if not 0 <= low <= high:
        raise SystemExit("LOCUST_THINK_S needs 0 <= low <= high")
    return low, high


THINK_S = _think_range()


class ChatCustomer(HttpUser):
    wait_time = between(*THINK_S)  # between conversations; turns inside one pause the same way

    @task
    def conversation(self) -> None:
        customer, flow = _rng.choice(CUSTOMERS), _rng.choice(FLOWS)
        TALLY["started"] += 1
        session_id, last_action = None, None
        for n, text in enumerate(flow):
            if n:
                time.sleep(_rng.uniform(*THINK_S))  # the customer reads the reply and types the next turn
            body = {"text": text, "customer": customer, **({"session_id": session_id} if session_id else {})}
            outcome = self._turn(body)
            if isinstance(outcome, str):
                TALLY[outcome] += 1
                return
            if session_id is not None and outcome.get("session_id") != session_id:
                TALLY["session_lost"] += 1
                _sample(f"session {session_id} answered as {outcome.get('session_id')}")
                return
            session_id = outcome.get("session_id")
            turn = outcome.get("turn") or {}
            said = " ".join(turn.get("bot") or []).lower()
            if any(m in said for m in ERROR_MARKERS):
                TALLY["error"] += 1
                _sample(said)
                return
            last_action = turn.get("dialog_action")
        TALLY["completed" if last_action in KNOWN_ACTIONS else "unknown_state"] += 1

    def _turn(self, body: dict) -> dict | str:
        """The answered turn's JSON, or the conversation's end state (``shed`` / ``error``)."""
        for _ in range(MAX_503_RETRIES + 1):
            t0 = time.perf_counter()
            with self.client.post("/api/chat", json=body, name="/api/chat", catch_response=True) as resp:
                if resp.status_code == 503:
                    SHED_503[0] += 1
                    resp.failure("503 server_busy (shed)")
                    retry = resp.headers.get("Retry-After", "1")
                    time.sleep(min(float(retry) if retry.isdigit() else 1.0, 5.0))
                    continue
                if resp.status_code != 200:
                    resp.failure(f"status {resp.status_code}")
                    _sample(f"status {resp.status_code}: {resp.text[:150]}")
                    return "error"
                try:
                    data = resp.json()
                except ValueError:
                    resp.failure("not JSON")
                    return "error"
                TURN_MS.append((time.perf_counter() - t0) * 1000)
                return data
        return "shed"


@events.quitting.add_listener
def write_summary(environment, **_kw) -> None:
    path = os.environ.get("LOCUST_SUMMARY")
    if not path:
        return
    ended = sum(v for k, v in TALLY.items() if k != "started")
    with open(path, "w", encoding="utf-8") as fp:
        json.dump({**TALLY, "cut": TALLY["started"] - ended, "responses_503": SHED_503[0], "turn_ms": TURN_MS,
                   "samples": SAMPLES}, fp)
