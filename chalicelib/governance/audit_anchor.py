"""`audit anchor`: move the decision log's head anchor to the verified head of the chain.

Why: SSM has no conditional put, so the anchor is written read-compare-put after each append; two
appends racing in two containers can leave it one record behind the chain (see
``decision_log.anchor.SsmHeadAnchor``), and an anchor write that failed (SSM throttled) leaves it
behind until the next append. `audit verify` then rightly reports the unanchored tail. This
command re-reads the whole chain, verifies it, checks that the record at the anchored seq still
carries the anchored hash (so the records the anchor already vouched for are untouched), and only
then moves the anchor forward to the verified head. It never moves the anchor backwards and it
refuses, changing nothing, when the chain does not verify.

How far it may move: ``--max-lag`` records (default 1, the race's lag). A larger gap is not a race:
someone appended records the anchor never saw, so the operator must look at them (they are
listed) and pass a larger ``--max-lag`` on purpose. A store that was never anchored is anchored
only with ``--first``.

Exit codes: 0 anchored (or already at the head), 1 refused (broken chain, anchored record
rewritten, chain shorter than the anchor, gap over ``--max-lag``, nothing anchored without
``--first``), 2 store or anchor unreadable.
"""
from __future__ import annotations

from typing import Callable, Iterable, Iterator

from chalicelib.governance.decision_log import DecisionLog, StoredRecord, verify_records
from chalicelib.governance.decision_log.anchor import AnchorError

DEFAULT_MAX_LAG = 1
SHOW_RECORDS = 20  # the unanchored records listed before moving the anchor over them


def add_anchor_arguments(a) -> None:
    a.add_argument("--max-lag", type=int, default=DEFAULT_MAX_LAG,
                   help="most records the anchor may be moved over (default 1: the SSM race)")
    a.add_argument("--first", action="store_true", help="anchor a store that was never anchored")
    a.add_argument("--dry-run", action="store_true", help="verify and say what would be anchored; change nothing")


class _Watch:
    """Passes records through to the verifier, keeping the one at the anchored seq and the tail after it."""

    def __init__(self, records: Iterable[StoredRecord], anchored_seq: int):
        self.records = records
        self.anchored_seq = anchored_seq
        self.at_anchor: StoredRecord | None = None
        self.tail: list[StoredRecord] = []

    def __iter__(self) -> Iterator[StoredRecord]:
        for rec in self.records:
            if rec.seq == self.anchored_seq:
                self.at_anchor = rec
            elif rec.seq > self.anchored_seq:
                self.tail.append(rec)
            yield rec


def run_anchor(args, log_factory: Callable[[], DecisionLog], say: Callable[[str], None]) -> int:
    if args.max_lag < 0:
        say("REFUSED (bad_argument): --max-lag must be 0 or more")
        return 1
    try:
        log = log_factory()
        if log.anchor is None:
            say("REFUSED (anchor_not_configured): this log has no head anchor to move")
            return 1
        anchored = log.anchor.read()
        if anchored is None and not args.first:
            say(f"REFUSED (anchor_missing): nothing anchored at {log.anchor.describe()}; "
                "pass --first to anchor a store for the first time")
            return 1
        watch = _Watch(log.store.records(), anchored[0] if anchored else 0)
        result = verify_records(watch)
    except AnchorError as exc:
        say(f"ERROR ({exc.code}): {exc}")
        return 2
    except Exception as exc:  # the store itself could not be read
        say(f"ERROR: cannot read the decision log: {exc}")
        return 2
    if not result.ok:
        bad = result.first_bad
        say(f"REFUSED (chain_broken): first bad record seq={bad.seq} id={bad.decision_id}: {bad.problem}; "
            "the anchor was not moved")
        return 1
    if anchored is not None:
        if result.count < anchored[0]:
            say(f"REFUSED (tail_removed): the chain ends at seq {result.count} but the anchor holds seq "
                f"{anchored[0]}; the anchor never moves backwards")
            return 1
        if watch.at_anchor is None or watch.at_anchor.hash != anchored[1]:
            say(f"REFUSED (anchored_record_rewritten): the record at the anchored seq {anchored[0]} no longer "
                "carries the anchored hash; the anchor was not moved")
            return 1
    base = anchored[0] if anchored else 0
    lag = result.count - base
    if lag == 0:
        say(f"OK: already anchored at the verified head, seq {result.count}")
        return 0
    for rec in watch.tail[:SHOW_RECORDS]:
        say(f"  unanchored seq={rec.seq} id={rec.decision_id} at={rec.at or '?'}")
    if len(watch.tail) > SHOW_RECORDS:
        say(f"  ... and {len(watch.tail) - SHOW_RECORDS} more")
    if anchored is not None and lag > args.max_lag:
        say(f"REFUSED (lag_over_limit): {lag} records after the anchored seq {base}, more than --max-lag "
            f"{args.max_lag}; look at them, then pass --max-lag {lag} to anchor them")
        return 1
    if args.dry_run:
        say(f"DRY RUN: would anchor seq {result.count} {result.head_hash} (from seq {base})")
        return 0
    try:
        log.anchor.advance(result.count, result.head_hash)
        now = log.anchor.read()
    except AnchorError as exc:
        say(f"ERROR ({exc.code}): {exc}")
        return 2
    except Exception as exc:
        say(f"ERROR (anchor_write_failed): {exc}")
        return 2
    if now is None or now[0] < result.count:
        say(f"ERROR (anchor_write_failed): the anchor reads {now} after writing seq {result.count}")
        return 2
    say(f"ANCHORED: seq {base} -> {now[0]} {now[1]} at {log.anchor.describe()}")
    return 0
