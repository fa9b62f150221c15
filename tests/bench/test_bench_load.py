"""The worker-process load benchmark runs end to end at a tiny size (it once broke silently when the
emulator started taking the composition root): every conversation ends in a known state, no email is lost."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_tiny_load_run_ends_every_conversation_and_email_in_a_known_state():
    """Given 2 worker processes, 6 conversations and 6 emails, When bench_load runs, Then it returns its
    flat keys with no error, no unfinished or unknown conversation, and no lost email."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DA_")}
    env.update(LOAD_WORKERS="2", LOAD_CONVERSATIONS="6", LOAD_EMAILS="6", LOAD_MAX_S="240")
    code = "import json, bench.bench_load as m; print('@@' + json.dumps(m.run(), default=str))"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    r = json.loads(next(ln for ln in proc.stdout.splitlines() if ln.startswith("@@"))[2:])
    assert r["load_conversations"] == 6 and r["load_chat_turns"] > 6
    assert (r["load_errors"], r["load_conversations_unfinished"], r["load_conversations_unknown_state"]) == (0, 0, 0)
    assert r["load_emails_processed"] == 6 and r["load_emails_lost"] == 0
