"""`python -m chatbot chat --customer ID --script FILE`: the scripted emulator interface."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(tmp_path):
    e = dict(os.environ)
    e.update({"DA_BACKEND": "sqlite", "DA_SQLITE_PATH": str(tmp_path / "cli.db"),
              "DA_OTP_OUTBOX_PATH": str(tmp_path / "outbox.log"),
              "DA_IDENTITY_KEY": "cli-test-key-0123456789abcdef0123456789abcdef"})
    subprocess.run([sys.executable, "-m", "chalicelib.demo.demo_data", "--reset"], cwd=ROOT, env=e, check=True,
                   capture_output=True, timeout=120)
    return e


def _run(env, tmp_path, lines, *extra):
    script = tmp_path / "script.txt"
    script.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "chatbot", "chat", *extra, "--script", str(script)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def test_script_prints_one_json_line_per_turn(env, tmp_path):
    """Given a seeded store and a 3-line script as demo-alice, When the CLI runs it, Then it prints one
    JSON line per message with user, bot, intent, intent_state and dialog_action."""
    out = _run(env, tmp_path, ["what's the status of my dispute", "# a comment line is skipped", "",
                               "talk to an agent", "blorp"], "--customer", "demo-alice")
    assert len(out) == 3
    for turn in out:
        assert {"user", "bot", "intent", "intent_state", "dialog_action"} <= set(turn)
        assert isinstance(turn["bot"], list) and turn["bot"]
    assert out[0]["intent"] == "DisputeStatus" and "DSP-ALICE1" in " ".join(out[0]["bot"])
    assert out[1]["intent"] == "TalkToAgent" and out[1]["dialog_action"] == "Close"


def test_anonymous_script_uses_out_of_band_code(env, tmp_path):
    """Given no customer, When the script verifies with {otp}, Then the code from the local outbox is
    used and the original request is answered."""
    out = _run(env, tmp_path, ["check my dispute", "4242", "12 April 1988", "{otp}"])
    assert out[-1]["intent"] == "DisputeStatus"
    assert "DSP-ALICE1" in " ".join(out[-1]["bot"])


def test_missing_script_is_a_clear_error(env, tmp_path):
    """Given a script path that does not exist, When the CLI runs, Then it exits non-zero with one line."""
    proc = subprocess.run([sys.executable, "-m", "chatbot", "chat", "--script", str(tmp_path / "nope.txt")], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr and proc.stderr.strip()


def test_make_demo_scenario_leaves_a_verifiable_replayable_log(tmp_path):
    """Given a fresh store, When the demo scenario (scripts/demo.sh: Alice, Bob and an anonymous
    visitor, plus the sample emails) runs, Then cases are filed and audit verify and replay exit 0."""
    e = dict(os.environ)
    e.update({"DA_BACKEND": "sqlite", "DA_SQLITE_PATH": str(tmp_path / "demo.db"),
              "DA_OTP_OUTBOX_PATH": str(tmp_path / "outbox.log"), "PY": sys.executable,
              "DA_IDENTITY_KEY": "demo-test-key-0123456789abcdef0123456789abcdef"})
    proc = subprocess.run(["bash", "scripts/demo.sh"], cwd=ROOT, env=e, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "OK: chain intact" in proc.stdout and "0 differences" in proc.stdout
    turns = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    filed = [t for t in turns if any("is filed" in b for b in t["bot"])]
    assert len(filed) == 2
    said = " ".join(b for t in turns for b in t["bot"])
    assert "released" in said and "HND-" in said
