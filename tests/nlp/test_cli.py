"""``python -m nlp triage``: the contract the evaluation relies on, run as a real subprocess."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
EMAILS = REPO_ROOT.parent / "shared" / "data" / "emails"
REQUIRED = {"id", "intent", "intent_confidence", "category", "category_confidence", "urgency", "sentiment",
            "language", "entities", "redacted_text", "tier_used"}


def run(args: list[str], stdin: bytes = b"", env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DA_"))}
    env.update({"AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_CONFIG_FILE": os.devnull})
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "nlp", "triage", *args], input=stdin, cwd=REPO_ROOT,
                          capture_output=True, env=env, timeout=120)


def lines(out: bytes) -> list[dict]:
    return [json.loads(line) for line in out.decode("utf-8").splitlines() if line.strip()]


def test_jsonl_one_line_per_input_bad_lines_reported_and_run_continues():
    """Given JSON lines with a valid message, broken JSON, a non-string text and a blank line
    When they are piped to ``python -m nlp triage --jsonl`` with no AWS configuration
    Then there is one output line per non-blank input in order, errors carry the id and an
    "error" field, good lines carry every required field, tier is local:comprehend_disabled,
    and the exit code is 0."""
    stdin = b"\n".join([
        json.dumps({"id": "a", "text": "I was charged twice at Tesco, card 4539 1488 0343 6467"}).encode(),
        b"{not json",
        json.dumps({"id": 7, "text": 5}).encode(),
        b"",
        json.dumps({"id": "b", "text": "Where is my refund? I am stranded abroad"}).encode(),
    ]) + b"\n"
    p = run(["--jsonl"], stdin, {"DA_COMPREHEND_ENABLED": "true"})
    assert p.returncode == 0, p.stderr.decode()
    out = lines(p.stdout)
    assert [o.get("id") for o in out] == ["a", None, "7", "b"]
    assert "error" in out[1] and "error" in out[2]
    for good in (out[0], out[3]):
        assert REQUIRED <= set(good) and good["tier_used"] == "local:comprehend_disabled"
    assert out[0]["category"] == "duplicate_charge" and "4539" not in p.stdout.decode()
    assert "time_pressure" in out[3]["urgency_reasons"]
    assert b"errors" in p.stderr


def test_emails_directory_one_line_per_message_with_email_block():
    """Given the shared email directory (with a README and a manifest that are not mail)
    When ``python -m nlp triage DIR --progress`` runs
    Then each .eml yields one JSON line with the required fields and an email block, the
    progress line and the summary table (count, categories, tiers, errors, emails/s) go to stderr."""
    p = run([str(EMAILS), "--progress"])
    assert p.returncode == 0, p.stderr.decode()
    out = lines(p.stdout)
    assert len(out) == len(list(EMAILS.glob("*.eml")))
    for o in out:
        assert REQUIRED <= set(o), o.get("error")
        assert {"from", "original_from", "subject", "message_id", "attachments"} <= set(o["email"])
    err = p.stderr.decode()
    assert "emails/s" in err and "tier local:comprehend_disabled" in err and f"/{len(out)} emails" in err


def test_mbox_and_unreadable_path(tmp_path):
    """Given an mbox with two messages and a path that does not exist
    When both are triaged
    Then the mbox yields two results named file#index and the missing path one error line; exit 0."""
    msg = ("From a@example.com Thu Nov 19 10:00:00 2026\nFrom: a@example.com\nSubject: {s}\n"
           "Message-ID: <{i}@x>\n\n{b}\n\n")
    box = tmp_path / "inbox.mbox"
    box.write_text(msg.format(s="double charge", i=1, b="Charged twice by Uber") +
                   msg.format(s="refund", i=2, b="My refund is not showing up"))
    p = run([str(box), str(tmp_path / "missing.eml"), "--quiet"])
    assert p.returncode == 0
    out = lines(p.stdout)
    assert [o["id"] for o in out] == ["inbox.mbox#0", "inbox.mbox#1", str(tmp_path / "missing.eml")]
    assert out[0]["email"]["message_id"] == "<1@x>" and "error" in out[2]
    assert p.stderr == b""


def test_help_answers_without_loading_models():
    """Given a fresh interpreter
    When the CLI module is imported and its parser built
    Then spaCy, onnxruntime and numpy are not loaded (fast start)."""
    code = ("import sys, nlp.__main__ as m; m._parser(); "
            "print([x for x in ('spacy', 'onnxruntime', 'numpy', 'boto3') if x in sys.modules])")
    p = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert p.stdout.strip() == "[]", p.stderr
