"""Browser-test infrastructure: the real app on a local port, and one headless Chromium per session.

Why a real server and a real browser: a web page is tested the way a person uses it (DESIGN.md,
convention 14). The pages are served by `chalice local` exactly as `make run` serves them, in a
subprocess with its own temporary SQLite store seeded with the demo data, so the browser tests
share nothing with the rest of the suite (settings, singletons, the developer's `.data/`).

Why Debian's Chromium through ``executable_path``: browsers cannot be downloaded here, so
Playwright's own browser builds are never installed; `make test` installs the `chromium` package.
Without it every browser test is skipped with a reason that names the fix, and the run's summary
says so in capitals (tests/conftest.py): never a silent pass.

Reuse (e.g. the agent console at /console): depend on ``live_server`` for the base URL and on
``open_page`` for a fresh page at a given viewport; ``tests.browser.support`` has the axe check,
the overflow check and the screenshot helper.
"""
from __future__ import annotations

import contextlib

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("DA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SKIP_PREFIX = "BROWSER TESTS SKIPPED"
SERVER_START_S = 60.0
# The agents the live server knows (the console tests sign in with these).
AGENT_TOKENS = {"console-test-token": {"agent": "casey", "role": "agent", "queues": ["disputes", "general", "fraud"]}}


@dataclass(frozen=True)
class LiveServer:
    """The running local app: its base URL and the files of its private store."""

    url: str
    data_dir: Path

    def at(self, path: str) -> str:
        return self.url + path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"chalice local exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/api/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"chalice local did not answer within {SERVER_START_S:.0f}s:\n{log.read_text(errors='replace')[-3000:]}")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> LiveServer:
    """`make run` in miniature: seed a private store with the demo data, then serve the app on a free
    loopback port with the local channel on. Stopped (and its store dropped) at the end of the session."""
    with serve(tmp_path_factory.mktemp("live-server")) as server:
        yield server


@pytest.fixture(scope="module")
def fresh_server(tmp_path_factory) -> LiveServer:
    """A server of the module's own, on freshly seeded demo data: for what a customer sees only the
    first time (the held payment the assistant raises when the chat opens)."""
    with serve(tmp_path_factory.mktemp("fresh-server")) as server:
        yield server


@contextlib.contextmanager
def serve(data_dir: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DA_")}
    env.update({
        "DA_BACKEND": "sqlite",
        "DA_LOCAL_CHANNEL": "1",
        "DA_SQLITE_PATH": str(data_dir / "assistant.db"),
        "DA_OTP_OUTBOX_PATH": str(data_dir / "otp-outbox.log"),
        "DA_OUTBOX_DIR": str(data_dir / "outbox"),
        "DA_AGENT_TOKENS": json.dumps(AGENT_TOKENS),
        "PYTHONUNBUFFERED": "1",
    })
    subprocess.run([sys.executable, "-m", "chalicelib.demo.demo_data", "--reset"], cwd=REPO_ROOT, env=env, check=True,
                   capture_output=True, timeout=120)
    port = _free_port()
    log = data_dir / "server.log"
    chalice = shutil.which("chalice", path=str(Path(sys.executable).parent)) or "chalice"
    with open(log, "wb") as out:
        proc = subprocess.Popen([chalice, "local", "--no-autoreload", "--host", "127.0.0.1", "--port", str(port)],
                                cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, proc, log)
        yield LiveServer(url=url, data_dir=data_dir)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def browser():
    """One headless Debian Chromium for the whole session (a launch costs about a second; a context
    per test keeps tests apart). Skips loudly when Chromium or Playwright is missing."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{SKIP_PREFIX}: no Chromium at {CHROMIUM}. Run `make test` (it installs Debian's chromium) "
                    f"or `apt-get install -y chromium`, or set DA_CHROMIUM to a Chromium binary.")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip(f"{SKIP_PREFIX}: the playwright package is missing. Run `make test` "
                    f"(pip installs requirements-dev.txt).")
    with sync_playwright() as pw:
        try:
            chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Exception as exc:  # a broken install is reported, not hidden
            pytest.skip(f"{SKIP_PREFIX}: Chromium at {CHROMIUM} would not start: {exc}")
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def open_page(browser, live_server):
    yield from _pages(browser, live_server)


@pytest.fixture
def open_fresh_page(browser, fresh_server):
    """``open_page`` on the module's freshly seeded server."""
    yield from _pages(browser, fresh_server)


def _pages(browser, live_server):
    """A factory: ``open_page("/chat", viewport=PHONE)`` gives a fresh page (own context: no shared
    cookies or storage) already loaded; every context is closed after the test. Console errors and
    failed requests are collected on ``page.problems`` so a test can assert the page ran cleanly."""
    contexts = []

    def _open(path: str, viewport: dict | None = None):
        context = browser.new_context(viewport=viewport or DESKTOP, reduced_motion="reduce")
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.problems = []
        page.on("console", lambda m: m.type == "error" and page.problems.append(f"console: {m.text}"))
        page.on("pageerror", lambda e: page.problems.append(f"pageerror: {e}"))
        page.goto(live_server.at(path))
        return page

    yield _open
    for context in contexts:
        context.close()
