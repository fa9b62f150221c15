"""`audit anchor`: the head anchor that lagged (SSM has no conditional put) is moved to the verified head of the
chain, never backwards, and never over a chain that does not verify; on the file anchor and on SSM (moto)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from chalicelib.core.settings import Settings
from chalicelib.governance.decision_log.anchor import FileHeadAnchor, anchor_file_for
from tests.governance.test_decision_anchor import run, seed

REPO = Path(__file__).resolve().parents[2]


def hash_at(log, seq: int) -> str:
    return next(r.hash for r in log.store.records() if r.seq == seq)


def set_anchor(log, seq: int | None) -> None:
    """Put the anchor where a lost race (or a failed anchor write) left it: at ``seq``, or nowhere."""
    anchor = log.anchor
    if isinstance(anchor, FileHeadAnchor):
        if seq is None:
            anchor.path.unlink()
        else:
            anchor.path.write_text(f"{seq} {hash_at(log, seq)}\n")
    elif seq is None:
        anchor.client.delete_parameter(Name=anchor.name)
    else:
        anchor.client.put_parameter(Name=anchor.name, Value=f"{seq} {hash_at(log, seq)}", Type="String", Overwrite=True)


def test_anchor_one_behind_is_moved_to_the_verified_head(backend):
    """Given a log of 4 whose anchor lost the race and holds seq 3 (verify fails: 1 record not anchored) / When
    `audit anchor` runs / Then it lists the unanchored record, anchors seq 4 with its hash, and verify passes."""
    _, log, _ = backend
    seed(log)
    set_anchor(log, 3)
    code, out = run(["verify"], log)
    assert code == 1 and "not anchored" in out
    code, out = run(["anchor"], log)
    assert code == 0 and "ANCHORED: seq 3 -> 4" in out and "unanchored seq=4" in out, out
    assert log.anchor.read() == (4, hash_at(log, 4)) == log.head()
    assert run(["verify"], log)[0] == 0


def test_a_broken_chain_is_never_anchored(backend):
    """Given a lagging anchor and a record edited in the store / When `audit anchor` runs / Then it refuses with
    chain_broken and the anchor still holds seq 3."""
    _, log, tamper = backend
    seed(log)
    set_anchor(log, 3)
    before = log.anchor.read()
    tamper.edit(2, lambda doc: doc.update(outcome="closed"))
    code, out = run(["anchor"], log)
    assert code == 1 and "chain_broken" in out and "seq=2" in out
    assert log.anchor.read() == before


def test_a_rewritten_anchored_record_is_not_blessed(backend):
    """Given an anchor at seq 3 / When records 3 and 4 are rewritten and re-chained (the chain verifies alone) /
    Then `audit anchor` refuses with anchored_record_rewritten and leaves the anchor where it was."""
    _, log, tamper = backend
    seed(log)
    set_anchor(log, 3)
    before = log.anchor.read()
    tamper.rechain_from(3, lambda doc: doc.update(outcome="closed"))
    assert log.verify().ok
    code, out = run(["anchor"], log)
    assert code == 1 and "anchored_record_rewritten" in out
    assert log.anchor.read() == before


def test_the_anchor_never_moves_backwards(backend):
    """Given an anchor at seq 4 / When record 4 is deleted from the store / Then `audit anchor` refuses with
    tail_removed and the anchor still holds seq 4."""
    _, log, tamper = backend
    seed(log)
    before = log.anchor.read()
    tamper.delete(4)
    code, out = run(["anchor"], log)
    assert code == 1 and "tail_removed" in out
    assert log.anchor.read() == before == (4, before[1])


def test_a_gap_larger_than_the_race_needs_max_lag_on_purpose(backend):
    """Given an anchor 3 records behind / When `audit anchor` runs / Then it lists them and refuses with
    lag_over_limit; with --max-lag 3 it anchors the head."""
    _, log, _ = backend
    seed(log, 5)
    set_anchor(log, 2)
    code, out = run(["anchor"], log)
    assert code == 1 and "lag_over_limit" in out and out.count("unanchored seq=") == 3
    assert log.anchor.read()[0] == 2
    code, out = run(["anchor", "--max-lag", "3"], log)
    assert code == 0 and log.anchor.read() == log.head()


def test_dry_run_and_already_at_head_change_nothing(backend):
    """Given a lagging anchor / When `audit anchor --dry-run` runs / Then it says what it would anchor and the anchor
    is unchanged; and Given an anchor at the head / When `audit anchor` runs / Then exit 0, already anchored."""
    _, log, _ = backend
    seed(log)
    set_anchor(log, 3)
    code, out = run(["anchor", "--dry-run"], log)
    assert code == 0 and "would anchor seq 4" in out and log.anchor.read()[0] == 3
    assert run(["anchor"], log)[0] == 0
    code, out = run(["anchor"], log)
    assert code == 0 and "already anchored" in out


def test_a_never_anchored_store_needs_first(backend):
    """Given a log whose anchor holds nothing / When `audit anchor` runs / Then it refuses with anchor_missing;
    with --first it anchors the verified head."""
    _, log, _ = backend
    seed(log, 2)
    set_anchor(log, None)
    code, out = run(["anchor"], log)
    assert code == 1 and "anchor_missing" in out and log.anchor.read() is None
    code, out = run(["anchor", "--first"], log)
    assert code == 0 and log.anchor.read() == log.head()


def test_bad_max_lag_is_a_clear_refusal(backend):
    """Given any log / When --max-lag is negative / Then exit 1 with bad_argument (never a traceback)."""
    _, log, _ = backend
    seed(log, 1)
    code, out = run(["anchor", "--max-lag", "-1"], log)
    assert code == 1 and "bad_argument" in out


def test_the_cli_reanchors_the_local_store(tmp_path):
    """Given a configured sqlite store whose anchor file lags one record / When `python -m chalicelib.audit anchor`
    runs / Then it exits 0 and `audit verify` then exits 0."""
    from chalicelib.governance.decision_log import build_decision_log

    db = tmp_path / "cli.db"
    log = build_decision_log(Settings(backend="sqlite", sqlite_path=db))
    seed(log, 3)
    anchor_file_for(db).write_text(f"2 {hash_at(log, 2)}\n")
    env = {**os.environ, "DA_BACKEND": "sqlite", "DA_SQLITE_PATH": str(db), "PYTHONPATH": str(REPO)}
    verify = [sys.executable, "-m", "chalicelib.audit", "verify"]
    assert subprocess.run(verify, env=env, capture_output=True, text=True, cwd=REPO).returncode == 1
    done = subprocess.run([sys.executable, "-m", "chalicelib.audit", "anchor"], env=env, capture_output=True,
                          text=True, cwd=REPO)
    assert done.returncode == 0 and "ANCHORED" in done.stdout, done.stdout + done.stderr
    assert subprocess.run(verify, env=env, capture_output=True, text=True, cwd=REPO).returncode == 0
