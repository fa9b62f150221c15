"""Command line: ``python -m nlp triage``.

Two modes, one output format (one JSON object per line on stdout, the full TriageResult):

- ``python -m nlp triage --jsonl`` (or no PATH at all) reads JSON lines ``{"id": str, "text": str}`` on stdin. A line
  that is not a JSON object with a string ``text`` yields ``{"id": ..., "line": n, "error": ...}``
  and the run goes on; blank lines are skipped.
- ``python -m nlp triage PATH...`` triages raw emails from files, directories (recursive) and mbox
  files; each result also carries ``email`` (from, original_from, subject, message_id,
  attachments, ...). A message that cannot be read or is over the size cap yields an error line.

Exit status: 0 when the run completed, even if some inputs were bad (they are reported in-line and
counted in the summary); 1 when stdin cannot be read at all; 2 for usage errors. A summary table
(count, by category, by tier, errors, messages/s) goes to stderr; ``--progress`` adds a progress
line on stderr; ``--quiet`` drops the summary.

Comprehend is used only when settings enable it (``DA_COMPREHEND_ENABLED=true``) and AWS
credentials exist; otherwise every result says ``tier_used: local:comprehend_disabled``.

Why imports are deferred: ``--help`` and argument errors must answer instantly, and the rule
pipeline, numpy and onnxruntime load once, on the first message.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import IO, Any, Iterable, Iterator


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m nlp", description="Dispute Assistant NLP tools")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("triage", help="triage chat text (--jsonl on stdin) or raw emails (PATH...)")
    t.add_argument("paths", nargs="*", help="email files, directories or mbox files")
    t.add_argument("--jsonl", action="store_true", help='read {"id", "text"} JSON lines on stdin')
    t.add_argument("--progress", action="store_true", help="progress line on stderr")
    t.add_argument("--quiet", action="store_true", help="no summary table on stderr")
    t.add_argument("--today", type=date.fromisoformat, default=None,
                   help="resolve relative dates against this day (YYYY-MM-DD); default: today / email date")
    t.add_argument("--no-comprehend", action="store_true", help="local tier only, whatever the settings say")
    return p


class _Stats:
    def __init__(self) -> None:
        self.count = 0
        self.errors = 0
        self.categories: Counter[str] = Counter()
        self.tiers: Counter[str] = Counter()
        self.intents_unsure = 0
        self.cost = 0.0
        self.start = time.perf_counter()

    def add(self, record: dict[str, Any]) -> None:
        self.count += 1
        if "error" in record:
            self.errors += 1
            return
        self.categories[record.get("category", "?")] += 1
        self.tiers[record.get("tier_used", "?")] += 1
        self.intents_unsure += record.get("intent") == "unsure"
        self.cost += float(record.get("cost_usd") or 0.0)

    def table(self, unit: str) -> str:
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        ok = self.count - self.errors
        rows = [("inputs", str(self.count)), ("triaged", str(ok)), ("errors", str(self.errors)),
                ("intent unsure", str(self.intents_unsure)), ("cost (USD)", f"{self.cost:.6f}"),
                (f"{unit}/s", f"{ok / elapsed:.1f}"), ("elapsed (s)", f"{elapsed:.2f}")]
        rows += [(f"category {k}", str(v)) for k, v in sorted(self.categories.items(), key=lambda kv: (-kv[1], kv[0]))]
        rows += [(f"tier {k}", str(v)) for k, v in sorted(self.tiers.items(), key=lambda kv: (-kv[1], kv[0]))]
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k:<{width}}  {v:>10}" for k, v in rows)


def _progress(stream: IO[str], done: int, total: int | None, start: float, unit: str) -> None:
    rate = done / max(time.perf_counter() - start, 1e-9)
    if total:
        filled = int(30 * min(done, total) / total)
        bar = "#" * filled + "." * (30 - filled)
        stream.write(f"\r[{bar}] {done}/{total} {unit} {rate:.1f}/s")
    else:
        stream.write(f"\r{done} {unit} {rate:.1f}/s")
    stream.flush()


def _emit(out: IO[str], record: dict[str, Any]) -> None:
    out.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
    out.flush()


def _comprehend(disabled: bool) -> Any:
    if disabled:
        return None
    try:
        from nlp.comprehend import ComprehendTier

        return ComprehendTier.from_settings()
    except Exception as exc:  # no boto3 config, bad region ...: local tier only
        print(f"comprehend unavailable ({type(exc).__name__}): local tier only", file=sys.stderr)
        return None


def _jsonl_records(lines: Iterable[bytes], today: date | None, comprehend: Any) -> Iterator[dict[str, Any]]:
    from nlp.triage import scrub_output, triage_text

    for n, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        rid: Any = None
        try:
            obj = json.loads(raw.decode("utf-8"))
            if not isinstance(obj, dict):
                raise ValueError("line is not a JSON object")
            rid = obj.get("id")
            text = obj.get("text")
            if not isinstance(text, str):
                raise ValueError('"text" must be a string')
            rid = None if rid is None else str(rid)
            result = triage_text(text, id=rid, channel=str(obj.get("channel") or "chat"), today=today,
                                 comprehend=comprehend, repeat_contact=bool(obj.get("repeat_contact", False)))
            yield scrub_output(result.model_dump(mode="json"))
        except Exception as exc:  # one bad line never stops the run
            msg = f"{type(exc).__name__}: {exc}"[:300]
            yield scrub_output({"id": None if rid is None else str(rid), "line": n, "error": msg})


def _count_files(paths: list[str]) -> int:
    """Files the progress bar expects (mail-looking files in directories; an mbox counts once)."""
    from nlp.mail_sources import looks_like_mail

    total = 0
    for p in map(Path, paths):
        if not p.is_dir():
            total += 1
            continue
        for c in p.rglob("*"):
            if c.is_file() and not c.name.startswith("."):
                with c.open("rb") as fh:
                    total += looks_like_mail(fh.read(4096))
    return total


def _email_records(paths: list[str], today: date | None, comprehend: Any) -> Iterator[dict[str, Any]]:
    from nlp.email_parse import iter_messages
    from nlp.triage import scrub_output, triage_email

    for path in paths:
        try:
            messages = iter_messages(path)
            for name, raw in messages:
                try:
                    result = triage_email(raw, id=name, today=today, comprehend=comprehend)
                    yield scrub_output(result.model_dump(mode="json"))
                except Exception as exc:  # EmailTooLarge or anything unexpected: report, go on
                    yield scrub_output({"id": name, "error": f"{type(exc).__name__}: {exc}"[:300]})
        except Exception as exc:  # unreadable path
            yield scrub_output({"id": str(path), "error": f"{type(exc).__name__}: {exc}"[:300]})


def triage_main(args: argparse.Namespace, stdin: IO[bytes] | None = None, stdout: IO[str] | None = None,
                stderr: IO[str] | None = None) -> int:
    stdin = stdin if stdin is not None else sys.stdin.buffer
    stdout = stdout if stdout is not None else sys.stdout
    stderr = stderr if stderr is not None else sys.stderr
    comprehend = _comprehend(args.no_comprehend)
    stats = _Stats()
    if args.jsonl or not args.paths:
        unit = "messages"
        total = None

        def lines() -> Iterator[bytes]:
            yield from stdin

        records = _jsonl_records(lines(), args.today, comprehend)
    else:
        unit = "emails"
        total = _count_files(args.paths) if args.progress else None
        records = _email_records(args.paths, args.today, comprehend)
    try:
        for record in records:
            _emit(stdout, record)
            stats.add(record)
            if args.progress:
                _progress(stderr, stats.count, total, stats.start, unit)
    except OSError as exc:  # stdin (or a pipe) unreadable: nothing sensible left to do
        print(f"\ninput unreadable: {type(exc).__name__}: {exc}", file=stderr)
        return 1
    if args.progress:
        stderr.write("\n")
    if not args.quiet:
        print(stats.table(unit), file=stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "triage":
        return triage_main(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
