"""Load on the local web chat under a real multi-threaded WSGI server, driven by Locust.

The local stack (app.py's routes) is served by waitress through scripts/serve_wsgi.py, with its
admission control (503 + Retry-After when its slots and queue are full), over a freshly seeded
SQLite store. Locust (headless, loopback only, bounded by ``LOAD_WSGI_S`` seconds, ``--csv``) runs
``LOAD_WSGI_USERS`` users replaying chat conversations (bench/locust_chat.py), each pausing
``LOAD_WSGI_THINK_S`` ("low,high" seconds, default 1-3) between turns.

Recorded: Locust's request rate and percentiles (from its CSV, 503s included), the answered turns'
percentiles, every conversation's end state (completed / shed / error / session lost / unknown /
cut by the time bound), the 503s the server sent, and the server's peak RSS.

Emails have no HTTP way in (SES -> S3 -> SQS), so the email load stays in bench/bench_load.py
(worker processes, one event at a time each, like Lambda containers).
"""
from __future__ import annotations

import ast
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
USERS = int(os.environ.get("LOAD_WSGI_USERS", "100"))
THINK_S = os.environ.get("LOAD_WSGI_THINK_S", "1,3")  # seconds between a customer's turns: "low,high"
SPAWN_RATE = float(os.environ.get("LOAD_WSGI_SPAWN_RATE", "50"))
RUN_S = int(os.environ.get("LOAD_WSGI_S", "60"))
MAX_WAITING = int(os.environ.get("LOAD_WSGI_MAX_WAITING", "16"))


def _peak_rss_mb(pid: int) -> float:
    """The process's high-water RSS (VmHWM): its peak over the whole run, not a sample."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return 0.0


def _aggregated(csv_prefix: Path) -> dict:
    with open(f"{csv_prefix}_stats.csv", newline="", encoding="utf-8") as fp:
        rows = list(csv.DictReader(fp))
    row = next((r for r in rows if r.get("Name") == "Aggregated"), rows[-1] if rows else {})

    def num(key: str) -> float:
        try:
            return float(row.get(key) or 0)
        except ValueError:
            return 0.0  # Locust writes "N/A" for a percentile it has no sample for

    return {"requests": int(num("Request Count")), "failures": int(num("Failure Count")),
            "requests_per_s": round(num("Requests/s"), 1), "p50_ms": num("50%"), "p95_ms": num("95%"),
            "p99_ms": num("99%")}


def _start_server(env: dict, log_path: Path) -> tuple[subprocess.Popen, int]:
    cmd = [sys.executable, "scripts/serve_wsgi.py", "--port", "0", "--max-waiting", str(MAX_WAITING)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=open(log_path, "w"), text=True)
    line = proc.stdout.readline()
    if not line.startswith("serving on http://127.0.0.1:"):
        proc.kill()
        raise RuntimeError(f"the WSGI server did not start: {line!r} (see {log_path})")
    return proc, int(line.split()[2].rsplit(":", 1)[1])


def run() -> dict:
    from bench.bench_load import _pct, _progress

    tmp = Path(tempfile.mkdtemp(prefix="da-load-wsgi-"))
    env = {**os.environ, "DA_BACKEND": "sqlite", "DA_SQLITE_PATH": str(tmp / "load.db"), "DA_METRICS": "off",
           "DA_OTP_OUTBOX_PATH": str(tmp / "otp.log"), "DA_OUTBOX_DIR": str(tmp / "outbox"),
           "DA_LOCAL_CHANNEL": "1", "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "chalicelib.demo_data", "--reset"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    server, port = _start_server(env, tmp / "server.log")
    summary_path, csv_prefix = tmp / "summary.json", tmp / "locust"
    locust = [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locust_chat.py"), "--headless",
              "-u", str(USERS), "-r", str(SPAWN_RATE), "-t", f"{RUN_S}s", "--host", f"http://127.0.0.1:{port}",
              "--csv", str(csv_prefix), "--only-summary", "--stop-timeout", "15", "--exit-code-on-error", "0",
              "--loglevel", "WARNING"]
    started = time.monotonic()
    try:
        driver_env = {**env, "LOCUST_SUMMARY": str(summary_path), "LOCUST_THINK_S": THINK_S}
        driver = subprocess.Popen(locust, cwd=ROOT, env=driver_env, stdout=open(tmp / "locust.out", "w"),
                                  stderr=subprocess.STDOUT)
        while driver.poll() is None:
            elapsed = int(time.monotonic() - started)
            _progress("load_wsgi seconds", min(elapsed, RUN_S), RUN_S + 1)
            if elapsed > RUN_S + 180:  # bounded even if Locust hangs
                driver.kill()
                break
            time.sleep(1)
        _progress("load_wsgi seconds", RUN_S + 1, RUN_S + 1)
        wall_s = time.monotonic() - started
        rss = _peak_rss_mb(server.pid)
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=60)
    counts = next((ast.literal_eval(ln.split(":", 1)[1].strip()) for ln in out.splitlines()
                   if ln.startswith("stopped:")), {})
    if driver.returncode != 0 or not summary_path.exists():
        raise RuntimeError(f"locust exit {driver.returncode}: {(tmp / 'locust.out').read_text()[-2000:]}")
    agg = _aggregated(csv_prefix)
    s = json.loads(summary_path.read_text())
    turns = s.pop("turn_ms")
    return {
        "load_wsgi_server": "waitress",
        "load_wsgi_users": USERS,
        "load_wsgi_run_s": RUN_S,
        "load_wsgi_think_min_s": float(THINK_S.split(",")[0]),
        "load_wsgi_server_peak_active": counts.get("peak_active"),
        "load_wsgi_requests": agg["requests"],
        "load_wsgi_requests_per_s": agg["requests_per_s"],
        "load_wsgi_request_p50_ms": agg["p50_ms"],
        "load_wsgi_request_p99_ms": agg["p99_ms"],
        "load_wsgi_failed_requests": agg["failures"],
        "load_wsgi_chat_turns": len(turns),
        "load_wsgi_chat_turns_per_s": round(len(turns) / RUN_S, 1) if RUN_S else 0.0,
        "load_wsgi_chat_p50_ms": _pct(turns, 50),
        "load_wsgi_chat_p95_ms": _pct(turns, 95),
        "load_wsgi_chat_p99_ms": _pct(turns, 99),
        "load_wsgi_responses_503": s["responses_503"],
        "load_wsgi_server_shed_full": counts.get("shed_full", 0),
        "load_wsgi_server_shed_waited": counts.get("shed_waited", 0),
        "load_wsgi_conversations_started": s["started"],
        "load_wsgi_conversations_completed": s["completed"],
        "load_wsgi_conversations_shed": s["shed"],
        "load_wsgi_conversations_cut_by_time": s["cut"],
        "load_wsgi_errors": s["error"] + s["session_lost"] + s["unknown_state"],
        "load_wsgi_conversations_session_lost": s["session_lost"],
        "load_wsgi_conversations_unknown_state": s["unknown_state"],
        "load_wsgi_server_rss_mb": rss,
        "load_wsgi_wall_s": round(wall_s, 1),
        "load_wsgi_error_samples": s["samples"],
        "_latencies_ms": {"chat": turns[:20000]},
    }


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    result = run()
    result.pop("_latencies_ms")
    print(json.dumps(result, indent=2))
