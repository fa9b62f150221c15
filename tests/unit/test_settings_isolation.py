"""No test inherits another's settings: `get_settings()` is an lru_cache, and tests/conftest.py clears it around
every test (the cache once moved the conversation-set score of every later test in an xdist worker)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

TWO_TESTS = '''
from chalicelib.core.settings import Settings, get_settings


def test_a_caches_settings_under_its_own_environment(monkeypatch):
    monkeypatch.setenv("DA_DISPUTE_WINDOW_DAYS", "7")
    assert get_settings().dispute_window_days == 7


def test_b_reads_the_settings_of_its_own_environment():
    assert get_settings().dispute_window_days == Settings().dispute_window_days != 7
'''


def _run(tmp_path: Path, conftest: str) -> subprocess.CompletedProcess:
    (tmp_path / "conftest.py").write_text(conftest)
    (tmp_path / "test_pair.py").write_text(TWO_TESTS)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DA_")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                           str(tmp_path / "test_pair.py")], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)


def test_a_later_test_never_sees_an_earlier_tests_settings(tmp_path):
    """Given two tests run in order in one process, the first caching the settings under DA_DISPUTE_WINDOW_DAYS=7 /
    When the suite's conftest fixture is in force / Then the second reads the default window; and without it (the
    control) the second sees the first's 7 and fails."""
    with_fixture = _run(tmp_path, "from tests.conftest import fresh_settings  # noqa: F401\n")
    assert with_fixture.returncode == 0, with_fixture.stdout[-2000:]
    control = _run(tmp_path, "")
    assert control.returncode == 1 and "1 failed, 1 passed" in control.stdout, control.stdout[-2000:]
