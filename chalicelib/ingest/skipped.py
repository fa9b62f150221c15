"""``python -m chalicelib.ingest.skipped [--code CODE] [--limit N]``: the mail routed to nobody.

Why a listing of its own: spam, newsletters and auto-replies open no ticket and get no answer
(chalicelib/ingest/routing.py), so no agent queue shows them. Skipping must not be dropping: each
skipped mail keeps its triage record (redacted), its decision in the log and a stable skip code,
and this command lists them, newest first, for an agent or an auditor to check what the assistant
decided not to show anyone. One JSON line per record; addresses stay masked, text stays redacted.
"""
from __future__ import annotations

import argparse
import json
from typing import Any

from chalicelib.core.models import TriageRecord
from chalicelib.ingest.routing import SKIP_CODES

__all__ = ["skipped_rows", "row", "main"]


def row(rec: TriageRecord) -> dict[str, Any]:
    """What an auditor needs of one skipped mail, and nothing more."""
    t = rec.triage
    return {"record_id": rec.record_id, "received_at": rec.received_at.isoformat(), "skip_code": rec.reasons[0],
            "automated": rec.automated, "sender": rec.sender, "subject": rec.subject, "scope": t.get("scope"),
            "scope_reason": t.get("scope_reason"), "language": t.get("language"), "decision_id": rec.decision_id,
            "s3_object": f"{rec.s3_bucket}/{rec.s3_key}"}


def skipped_rows(store: Any, codes: tuple[str, ...] = SKIP_CODES, limit: int = 100) -> list[dict[str, Any]]:
    """The skipped records of each code, newest first overall (at most ``limit`` per code)."""
    recs = [r for code in codes for r in store.triage.list_skipped(code, limit)]
    return [row(r) for r in sorted(recs, key=lambda r: (r.received_at, r.record_id), reverse=True)]


def main(argv: list[str] | None = None, store: Any = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.ingest.skipped", description=__doc__.split("\n\n")[0])
    parser.add_argument("--code", choices=SKIP_CODES, action="append", help="a skip code (default: all)")
    parser.add_argument("--limit", type=int, default=100, help="at most this many records per code")
    args = parser.parse_args(argv)
    if store is None:
        from chalicelib.core.settings import get_settings
        from chalicelib.storage import get_store

        store = get_store(get_settings())
    for item in skipped_rows(store, tuple(args.code or SKIP_CODES), args.limit):
        print(json.dumps(item))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
