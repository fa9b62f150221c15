"""What a demo reset empties besides the store's tables.

Why: ``--reset`` emptied customers, payments and cases, but what the services remember about them
stayed: the card-event stream's applied events (idempotency records), each payment's order key and
the quarantine, every other idempotency record (email follow-ups ...), and the progressive rollout
(stages, their history, guard observations). Replaying the same day of card events after a reset
then re-created none of its payments (each event "already applied"), and a capability rolled back in
one demo stayed in shadow, judged on the previous demo's observations.

Kept on purpose: the decision log and its pseudonym keys (append-only and hash-chained: the records
of a reset demo stay verifiable; erasure is per customer, ``erase_customer``), and rollout stages kept
in SSM (an operator's switch in a deployed account, not demo data).
"""
from __future__ import annotations


def reset_run_state(settings) -> list[str]:
    """Empty the run state of the configured backend; returns what was emptied and what was kept."""
    from chalicelib.fraud.ledger import build_event_ledger
    from chalicelib.governance.rollout import build_rollout_store
    from chalicelib.storage.idempotency import build_idempotency_store

    build_idempotency_store(settings).reset()
    build_event_ledger(settings).reset()
    notes = ["emptied: idempotency records, card-event order keys and quarantine"]
    rollout = build_rollout_store(settings)
    reset = getattr(rollout, "reset", None)  # stages in SSM have none: an operator's switch
    if reset is None:
        notes.append(f"kept: rollout stages ({type(rollout).__name__})")
    else:
        reset()
        notes.append("emptied: rollout stages, their history and guard observations")
    notes.append("kept: the decision log (append-only, hash-chained)")
    return notes
