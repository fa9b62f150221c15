"""The conversation-set benchmark copies one seeded store per conversation: the copy must hold every seeded record,
whatever the process ran before (a copy taken while the last commits sat in the WAL had no disputes, and the score
moved with the garbage collector's timing)."""
from __future__ import annotations

import gc
import shutil
import sqlite3

from bench.bench_conversations import _Seeded


def test_a_copy_of_the_seeded_store_holds_the_seeded_disputes(tmp_path):
    """Given the garbage collector off (so nothing closes the seeding connection behind the bench's back) / When the
    seeded template file alone is copied, as each conversation's store is / Then the copy has demo-alice's open
    dispute."""
    gc.disable()
    try:
        seeded = _Seeded(tmp_path)
        copy = tmp_path / "copy.db"
        shutil.copyfile(seeded.template, copy)
    finally:
        gc.enable()
    with sqlite3.connect(copy) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        table = next(t for t in tables if "case" in t)
        rows = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    assert rows > 0
