"""The conversation set (tests/fixtures/conversation_set.yaml) stays handled at least as well as measured.

The floor is the share measured when the set was written (bench/results.json records each run);
raise it when the assistant gets better, never lower it to make a change pass.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bench.bench_conversations import check

ROOT = Path(__file__).resolve().parents[2]
FLOOR_PCT = 98.4  # 98.7 % measured in a fresh process after merging grounding, corrections and several requests (issue 13); one case of margin; the goal is 95 %


def test_the_conversation_set_is_handled_at_least_as_well_as_measured():
    """Given the conversation set of real-sounding messages, When every one is played through the
    emulator and the hook in a fresh process (as `make bench` does), Then the share handled as expected
    is not below the measured floor. (The score once moved between 92.3 % and 93.8 % with what a worker
    had run before: each conversation's store was copied while the seeded disputes still sat in the
    WAL, see tests/bench/test_bench_conversations_store.py; it is now 92.8 % in a fresh process and
    in a worker after tests/cli, tests/web, tests/agent and tests/nlp alike.)"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DA_")}
    code = ("import json; from bench.bench_conversations import SET, evaluate; r = evaluate(SET); "
            "print('@@' + json.dumps(r, default=str))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(next(ln for ln in proc.stdout.splitlines() if ln.startswith("@@"))[2:])
    assert result["first_messages"] >= 150 and result["conversations"] >= 30
    assert result["conversation_set_handled_pct"] >= FLOOR_PCT, result["failures"]


def test_an_answer_that_did_not_understand_never_counts_as_handled():
    """Given an answer saying it did not understand, When checked against any expectation, Then it fails."""
    from chatbot.emulator import TurnResult

    result = TurnResult(user="hi", bot=["Sorry, I didn't understand that."], intent=None, intent_state=None,
                        dialog_action="ElicitIntent")
    assert check(result, {}) == ["said it did not understand"]
