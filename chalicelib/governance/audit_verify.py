"""`audit verify`: the hash chain checked against the head anchored outside the store.

Why by default: a chain verified only against itself cannot show a cut tail or a rewritten and
re-chained last record. The anchor (an SSM parameter in AWS, a file locally; see
``decision_log.anchor``) can. ``--no-anchor`` is the explicit opt-out for a store that has never
been anchored (a fresh local store); ``--jsonl`` checks an export, a snapshot of the past, so it
uses ``--head`` only.
"""
from __future__ import annotations

from typing import Callable

from chalicelib.governance.decision_log import DecisionLog, read_jsonl, verify_records
from chalicelib.governance.decision_log.anchor import AnchorError


def add_verify_arguments(v) -> None:
    v.add_argument("--jsonl", help="verify an exported JSON-lines file instead of the store")
    v.add_argument("--head", help="the anchored head hash the chain must end at")
    v.add_argument("--no-anchor", action="store_true",
                   help="skip the anchored head (only for a store that was never anchored)")


def run_verify(args, log_factory: Callable[[], DecisionLog], say: Callable[[str], None]) -> int:
    """Exit 0 intact and anchored; 1 broken chain or missing/mismatched anchor; 2 unreadable store."""
    try:
        if args.jsonl:
            with open(args.jsonl, encoding="utf-8") as fp:
                result = verify_records(read_jsonl(fp), args.head)
            return _report(result, say)
        log = log_factory()
        anchored = None
        if not args.no_anchor:
            if log.anchor is None:
                say("ANCHOR MISSING (anchor_not_configured): this log has no head anchor; "
                    "pass --no-anchor to check the chain alone")
                return 1
            anchored = log.anchor.read()
            if anchored is None:
                say(f"ANCHOR MISSING (anchor_missing): nothing anchored at {log.anchor.describe()}; "
                    "a fresh store is checked with --no-anchor")
                return 1
        result = log.verify(args.head, anchored)
    except AnchorError as exc:
        say(f"ANCHOR UNREADABLE ({exc.code}): {exc}")
        return 1
    except Exception as exc:  # the store itself could not be read
        say(f"ERROR: cannot open the decision log: {exc}")
        return 2
    return _report(result, say, anchored)


def _report(result, say, anchored=None) -> int:
    if result.ok:
        where = f", anchored at seq {anchored[0]}" if anchored else (", NOT checked against an anchor")
        say(f"OK: chain intact, {result.count} decisions, head {result.head_hash}{where}")
        return 0
    bad = result.first_bad
    say(f"BROKEN: first bad record seq={bad.seq} id={bad.decision_id}: {bad.problem}")
    say(f"({result.count} records verified before it)")
    return 1
