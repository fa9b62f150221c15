"""The decision log's head anchored outside the store: `audit verify` catches a cut tail, a rewritten and
re-chained last record, and edited index columns, on both backends."""
from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from chalicelib.governance.audit import main
from chalicelib.governance.decision_log.anchor import FileHeadAnchor, anchor_file_for, build_head_anchor
from chalicelib.core.settings import Settings

REPO = Path(__file__).resolve().parents[2]


def run(argv, log):
    out = io.StringIO()
    return main(argv, log=log, out=out), out.getvalue()


def seed(log, n=4):
    for i in range(n):
        log.record(action="breaker_trip", outcome="open", actor="system", customer_id=f"c{i}", reasons=["breaker_open"])


def test_every_append_advances_the_anchor(backend):
    """Given a log with an anchor / When decisions are appended / Then the anchor holds the head (seq, hash)."""
    _, log, _ = backend
    seed(log)
    assert log.anchor.read() == log.head()
    code, out = run(["verify"], log)
    assert code == 0 and "anchored at seq 4" in out


def test_truncated_tail_is_detected(backend):
    """Given an anchored log / When the last record is deleted from the store / Then verify exits 1 naming the cut."""
    _, log, tamper = backend
    seed(log)
    tamper.delete(4)
    assert log.verify().ok  # the chain alone cannot tell
    code, out = run(["verify"], log)
    assert code == 1 and "tail removed" in out


def test_rewritten_and_rechained_last_record_is_detected(backend):
    """Given an anchored log / When the last record is rewritten and re-hashed / Then verify exits 1 at that seq."""
    _, log, tamper = backend
    seed(log)
    tamper.rechain_from(4, lambda doc: doc.update(outcome="closed"))
    assert log.verify().ok
    code, out = run(["verify"], log)
    assert code == 1 and "seq=4" in out and "re-chained" in out


def test_rewritten_middle_with_rechained_tail_is_detected(backend):
    """Given an anchored log / When record 2 is rewritten and everything after it re-chained / Then verify exits 1."""
    _, log, tamper = backend
    seed(log)
    tamper.rechain_from(2, lambda doc: doc.update(reasons=[]))
    assert run(["verify"], log)[0] == 1


def test_edited_customer_ref_column_is_detected(backend):
    """Given a stored record / When only its indexed customer_ref column is changed / Then verify exits 1 naming it."""
    _, log, tamper = backend
    seed(log)
    tamper.set_column(2, "customer_ref", "cref_" + "0" * 32)
    code, out = run(["verify", "--no-anchor"], log)
    assert code == 1 and "seq=2" in out and "customer_ref" in out


def test_edited_at_column_is_detected(backend):
    """Given a stored record / When only its indexed `at` column is changed / Then verify exits 1 naming it."""
    _, log, tamper = backend
    seed(log)
    tamper.set_column(3, "at", "1999-01-01T00:00:00.000000Z")
    code, out = run(["verify"], log)
    assert code == 1 and "seq=3" in out and "'at'" in out


def test_missing_anchor_fails_unless_explicitly_skipped(tmp_path):
    """Given a store with records but no anchor file / When verify runs / Then exit 1 with anchor_missing;
    with --no-anchor the chain alone is checked and passes."""
    from chalicelib.governance.decision_log import build_decision_log

    settings = Settings(backend="sqlite", sqlite_path=tmp_path / "a.db")
    log = build_decision_log(settings)
    seed(log, 2)
    anchor_file_for(settings.sqlite_path).unlink()
    code, out = run(["verify"], log)
    assert code == 1 and "anchor_missing" in out
    code, out = run(["verify", "--no-anchor"], log)
    assert code == 0 and "NOT checked against an anchor" in out


def test_corrupt_anchor_is_a_clear_failure(tmp_path):
    """Given an anchor file that holds garbage / When verify runs / Then exit 1 with anchor_unreadable, no crash."""
    from chalicelib.governance.decision_log import build_decision_log

    log = build_decision_log(Settings(backend="sqlite", sqlite_path=tmp_path / "a.db"))
    seed(log, 1)
    anchor_file_for(tmp_path / "a.db").write_text("not a head")
    code, out = run(["verify"], log)
    assert code == 1 and "anchor_unreadable" in out


def test_anchor_never_moves_back(tmp_path):
    """Given an anchor at seq 5 / When a slower writer anchors seq 4 / Then the anchor stays at seq 5."""
    a = FileHeadAnchor(tmp_path / "x.head")
    a.advance(5, "b" * 64)
    a.advance(4, "a" * 64)
    assert a.read() == (5, "b" * 64)


def test_aws_anchor_is_an_ssm_parameter(aws_env):
    """Given the dynamodb backend / When the anchor is built and advanced / Then the SSM parameter holds the head."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        ssm = boto3.client("ssm", region_name="us-east-1")
        anchor = build_head_anchor(Settings(backend="dynamodb"), ssm_client=ssm)
        assert anchor.read() is None
        anchor.advance(3, "c" * 64)
        anchor.advance(2, "d" * 64)
        assert ssm.get_parameter(Name="/da/decision-log/head")["Parameter"]["Value"] == "3 " + "c" * 64


def test_the_cli_checks_the_local_anchor_by_default(tmp_path):
    """Given a configured sqlite store with decisions / When its tail is cut and `python -m chalicelib.audit verify`
    runs / Then it exits 1 (the anchor file next to the store is read without any flag)."""
    import sqlite3

    from chalicelib.governance.decision_log import build_decision_log

    db = tmp_path / "cli.db"
    seed(build_decision_log(Settings(backend="sqlite", sqlite_path=db)), 3)
    env = {**os.environ, "DA_BACKEND": "sqlite", "DA_SQLITE_PATH": str(db), "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "chalicelib.audit", "verify"]
    assert subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=REPO).returncode == 0
    with sqlite3.connect(db) as c:
        c.execute("DROP TRIGGER governance_decisions_no_delete")
        c.execute("DELETE FROM governance_decisions WHERE seq = 3")
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 1 and "tail removed" in done.stdout, done.stdout + done.stderr
