"""The intents' sample utterances as classifier training rows (training/intent_examples.py)."""
from __future__ import annotations

import json
from pathlib import Path

from training.intent_examples import TABLE, build, fill, normalise, sample_utterances

ROOT = Path(__file__).resolve().parents[2]
LABELS = json.loads((ROOT.parent / "shared" / "data" / "banking77" / "categories.json").read_text())


def test_every_sample_utterance_is_reviewed():
    """Given the intents' sample utterances, When looked up in the review table, Then every one has a
    decision (a BANKING77 label or a reason to skip): a new utterance must be reviewed, not guessed."""
    missing = [(i, u) for i, u in sample_utterances() if (i, u) not in TABLE]
    assert missing == []
    for (intent, utt), (label, reason) in TABLE.items():
        assert (label in LABELS) or (label is None and reason.strip()), (intent, utt)


def test_rows_never_duplicate_the_dev_split_and_fill_every_placeholder():
    """Given the seeded dev split, When rows are built excluding it, Then no row equals a dev text,
    no placeholder survives, and only BANKING77 labels are produced."""
    from training.train import load_split

    _, dev = load_split()
    rows, report = build(LABELS, exclude_texts=[t for t, _ in dev])
    dev_keys = {normalise(t) for t, _ in dev}
    assert rows and report["n_rows"] == len(rows)
    assert all(normalise(t) not in dev_keys for t, _ in rows)
    assert all("{" not in t and lab in LABELS for t, lab in rows)
    assert report["n_skipped"] + report["n_templates_used"] == report["n_utterances"]


def test_fill_is_deterministic_and_distinct():
    """Given a template with two placeholders, When filled twice, Then the same distinct texts come back."""
    a = fill("why was my {Merchant} payment of {Amount} declined")
    assert a == fill("why was my {Merchant} payment of {Amount} declined")
    assert len(a) == len(set(a)) >= 2
