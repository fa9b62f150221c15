"""The Lambda deployment package: its unzipped and zipped size, as `make package` builds it.

Lambda's hard limit is 250 MB unzipped (code and layers together); the build prints both sizes,
and this benchmark reads them from that output rather than measuring a different artefact.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_SIZE_RE = re.compile(r"([\d.]+) MB unzipped, ([\d.]+) MB zipped")


def run() -> dict:
    proc = subprocess.run(["bash", "scripts/package.sh"], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    m = None
    for line in (proc.stdout + proc.stderr).splitlines():
        m = _SIZE_RE.search(line) or m
    if proc.returncode != 0 or m is None:
        raise SystemExit(f"package build failed (exit {proc.returncode}): {proc.stderr[-800:]}")
    unzipped, zipped = float(m.group(1)), float(m.group(2))
    print(f"package: {unzipped} MB unzipped, {zipped} MB zipped (Lambda limit 250 MB unzipped)")
    return {"package_unzipped_mb": unzipped, "package_zipped_mb": zipped, "package_limit_unzipped_mb": 250.0}
