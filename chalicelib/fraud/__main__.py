"""``python -m chalicelib.fraud``: generate a day of card events, replay a file through the stream.

    python -m chalicelib.fraud generate --customer demo-alice [--day 2026-12-01 (default: yesterday, UTC)] [--seed 12] [-o FILE]
    python -m chalicelib.fraud replay FILE [--batch 100]
    python -m chalicelib.fraud schema > docs/card-events.schema.json
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date, datetime, timedelta, timezone


def progress(done: int, total: int, started: float, out=sys.stderr, width: int = 30) -> None:
    """A dependency-free progress bar on stderr (tqdm is not a runtime dependency)."""
    frac = done / total if total else 1.0
    rate = done / max(time.perf_counter() - started, 1e-9)
    bar = "#" * int(frac * width)
    out.write(f"\r[{bar:<{width}}] {done}/{total} events {rate:,.0f}/s")
    if done >= total:
        out.write("\n")
    out.flush()


def _generate(args) -> int:
    from chalicelib.fraud.generator import DEMO_CUSTOMERS, generate_day, write_jsonl

    customers = args.customer or list(DEMO_CUSTOMERS)
    events = [e for c in customers for e in generate_day(c, args.day, seed=args.seed, risky=not args.no_risky)]
    events.sort(key=lambda e: e.occurred_at)
    fp = open(args.output, "w") if args.output else sys.stdout
    try:
        n = write_jsonl(events, fp)
    finally:
        if args.output:
            fp.close()
    print(f"{n} events", file=sys.stderr)
    return 0


def _replay(args) -> int:
    from chalicelib.fraud.generator import kinesis_records
    from chalicelib.fraud.service import build_processor

    with open(args.file, "rb") as fp:
        lines = [line.rstrip(b"\n") for line in fp if line.strip()]
    processor = build_processor()
    totals = {"applied": 0, "quarantined": 0, "failed": 0, "holds": 0}
    started = time.perf_counter()
    for i in range(0, len(lines), args.batch):
        chunk = lines[i: i + args.batch]
        report = processor.handle_records(kinesis_records(chunk, start=i + 1))
        totals["applied"] += len(report.applied)
        totals["quarantined"] += len(report.quarantined)
        totals["failed"] += len(report.failures)
        totals["holds"] += sum(1 for a in report.applied if a.fraud and a.fraud.get("action") != "approve")
        if not args.quiet:
            progress(min(i + args.batch, len(lines)), len(lines), started)
    print(json.dumps(totals), file=sys.stdout)
    return 1 if totals["failed"] else 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m chalicelib.fraud", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate", help="a deterministic day of card events (JSON lines)")
    g.add_argument("--customer", action="append", help="demo customer id (repeatable; default: both)")
    # Yesterday by default: today's day runs until 23:59, so "today" would make holds the customer is
    # told about hours before they happen (and a negative time-to-response metric).
    g.add_argument("--day", type=date.fromisoformat, default=datetime.now(timezone.utc).date() - timedelta(days=1))
    g.add_argument("--seed", type=int, default=12)
    g.add_argument("--no-risky", action="store_true", help="leave out the risky payment")
    g.add_argument("-o", "--output")
    r = sub.add_parser("replay", help="feed a JSON-lines file through the Kinesis handler")
    r.add_argument("file")
    r.add_argument("--batch", type=int, default=100)
    r.add_argument("--quiet", action="store_true")
    sub.add_parser("schema", help="print the card-event JSON Schema")
    args = p.parse_args(argv)
    if args.cmd == "schema":
        from chalicelib.fraud.generator import dumps_schema

        sys.stdout.write(dumps_schema())
        return 0
    return _generate(args) if args.cmd == "generate" else _replay(args)


if __name__ == "__main__":
    sys.exit(main())
