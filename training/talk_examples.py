"""Review decisions for the sample utterances of the issue-13 intents (see training/intent_examples.py).

Why a decision per intent rather than per line: each of these intents maps to one BANKING77 label or
to none as a whole (small talk and withdrawals have no label; an out-of-scope topic is answered from
the catalogue and must not be trained into a dispute intent), so the review is the same for every
sample of the intent.
"""
from __future__ import annotations

DECISIONS: dict[str, tuple[str | None, str]] = {
    "LostCard": ("lost_or_stolen_card", ""),
    "WithdrawDispute": (None, "withdrawing a dispute: no BANKING77 label"),
    "SmallTalk": (None, "small talk: no BANKING77 label"),
    "OutOfScope": (None, "out-of-scope topic answered from intents/templates/out_of_scope.yaml, not trained"),
}


def talk_table() -> dict[tuple[str, str], tuple[str | None, str]]:
    from intents.registry import spec_for

    table = {}
    for intent, decision in DECISIONS.items():
        spec = spec_for(intent)
        for utterance in spec.sample_utterances if spec else ():
            table[(intent, utterance)] = decision
    return table
