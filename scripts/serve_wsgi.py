"""Serve the local stack (app.py's routes: web chat, agent API and console, health) under waitress,
a multi-threaded production WSGI server, with admission control (chatbot/wsgi.py).

    python scripts/serve_wsgi.py [--port 8000] [--max-active 4] [--max-waiting 16] [--wait-s 2]

Loopback only: it refuses any other address (the local channel mints identity tokens for whoever
asks; see chatbot/webchat.py). Prints one line ``serving on http://HOST:PORT`` when it listens, and
stops cleanly on SIGTERM / SIGINT. waitress comes from requirements-bench.txt, never the Lambda package.
"""
from __future__ import annotations

import argparse
import ipaddress
import os
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(ROOT))
    from chatbot.bootstrap import TURN_WORKERS

    p = argparse.ArgumentParser(prog="serve_wsgi", description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--max-active", type=int, default=TURN_WORKERS,
                   help="requests running at once (default: the container's turn pool size)")
    p.add_argument("--max-waiting", type=int, default=16, help="requests waiting for a slot before 503")
    p.add_argument("--wait-s", type=float, default=2.0, help="longest wait for a slot before 503")
    p.add_argument("--retry-after-s", type=int, default=1)
    p.add_argument("--connection-limit", type=int, default=2000)
    args = p.parse_args(argv)
    if not loopback(args.host):
        print(f"refusing to listen on {args.host}: the local stack serves loopback only", file=sys.stderr)
        return 2
    os.environ.setdefault("DA_LOCAL_CHANNEL", "1")

    import waitress

    from app import app
    from chatbot.wsgi import Admission, ChaliceWsgi

    admission = Admission(ChaliceWsgi(app), max_active=args.max_active, max_waiting=args.max_waiting,
                          wait_s=args.wait_s, retry_after_s=args.retry_after_s)
    # Enough threads that every admitted and waiting request has one and a 503 is always answered
    # at once; waitress's own task queue then never holds a request silently.
    threads = args.max_active + args.max_waiting + 4
    server = waitress.create_server(admission, host=args.host, port=args.port, threads=threads,
                                    connection_limit=args.connection_limit, backlog=1024, ident="dispute-assistant")

    def stop(*_):
        server.close()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"serving on http://{args.host}:{server.effective_port} (threads {threads}, active {args.max_active}, "
          f"waiting {args.max_waiting})", flush=True)
    try:
        server.run()
    except SystemExit:
        pass
    finally:
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
        print(f"stopped: {admission.counts}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
