"""`make bench`: run every bench/bench_*.py in its own process, print a table, write results.json.

Each benchmark module exposes ``run() -> dict``. Separate processes keep one benchmark's memory
and warm caches out of another's numbers (RSS and cold-import figures would be meaningless
otherwise). ``python -m bench NAME...`` runs a subset.
"""
from __future__ import annotations

import json
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results.json"


def _flatten(prefix: str, value, rows: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, rows)
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for i, v in enumerate(value):
            label = v.get("name") or v.get("engine") or v.get("format") or str(i)
            _flatten(f"{prefix}[{label}]", {k: x for k, x in v.items() if k not in ("name", "engine", "format")}, rows)
    else:
        if isinstance(value, float):
            value = f"{value:.4g}"
        rows.append((prefix, str(value)))


def main(argv: list[str]) -> int:
    names = argv or sorted(p.stem for p in HERE.glob("bench_*.py"))
    results: dict = {}
    if RESULTS.exists():
        try:
            results = json.loads(RESULTS.read_text())
        except ValueError:
            results = {}
    failed = []
    for name in names:
        mod = name if name.startswith("bench_") else f"bench_{name}"
        started = time.monotonic()
        code = (f"import json, bench.{mod} as m; r = m.run(); r['@flat'] = list(getattr(m, 'FLAT_KEYS', ())); "
                "print('@@RESULT@@' + json.dumps(r, default=str))")
        proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
        sys.stderr.write(proc.stderr[-4000:])
        line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("@@RESULT@@")), None)
        if proc.returncode != 0 or line is None:
            failed.append(mod)
            print(f"\n== {mod}: FAILED (exit {proc.returncode})")
            continue
        data = json.loads(line[len("@@RESULT@@"):])
        flat = data.pop("@flat", [])
        data["_seconds"] = round(time.monotonic() - started, 1)
        results[mod] = data
        # A benchmark may name headline figures to be kept flat at the top level (e.g. fraud_events_per_s).
        results.update({k: data[k] for k in flat if k in data})
        rows: list[tuple[str, str]] = []
        _flatten("", data, rows)
        width = max(len(k) for k, _ in rows)
        print(f"\n== {mod}")
        for k, v in rows:
            print(f"  {k.ljust(width)}  {v}")
    results["_meta"] = {"at": datetime.now(timezone.utc).isoformat(), "python": platform.python_version(),
                        "machine": platform.machine(), "cpus": __import__("os").cpu_count()}
    RESULTS.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
