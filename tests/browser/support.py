"""Checks shared by every browser test (web chat now, agent console next).

Why here and not in each test: an accessibility or layout rule must mean the same thing on every
page, and a failure must read the same way (which rule, which element, how to fix it).
"""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def axe_violations(page) -> list[str]:
    """Run axe-core inside the page (every rule it ships, best practices included) and describe each
    violation in one line per offending element, so a failing assert says what to fix."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    lines = []
    for v in results.response["violations"]:
        for node in v["nodes"]:
            lines.append(f"{v['id']} ({v['impact']}): {v['help']} at {node['target']} :: {node.get('failureSummary', '')}")
    return lines


def horizontal_overflow(page) -> int:
    """How many CSS pixels the document is wider than the window: anything above 0 means the page
    scrolls sideways, which on a phone hides part of it."""
    return page.evaluate("() => document.scrollingElement.scrollWidth - window.innerWidth")


def screenshot(page, name: str, tmp_dir: Path, full_page: bool = False) -> Path:
    """Save a PNG. `make screenshots` sets DA_SCREENSHOT_DIR=docs/screenshots to refresh the committed
    pictures; in `make test` they go to a temporary folder, so the code path runs without dirtying the tree."""
    target = Path(os.environ.get("DA_SCREENSHOT_DIR") or tmp_dir)
    if not target.is_absolute():
        target = REPO_ROOT / target
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
