"""Governance seen from the chat: kill switch, shadow mode, policy limits, and an auditable log."""
from __future__ import annotations

import io

import pytest

from chalicelib.governance.controls import Controls


def _file_unrecognised(world):
    em = world.emulator("demo-alice")
    for text in ["I don't recognise a charge on my card", "the paypal one for 214.50", "skip"]:
        em.send(text)
    return em.send("yes")


@pytest.mark.parametrize("mode", ["off", "shadow"])
def test_kill_switch_and_shadow_hand_filing_to_a_human(world, mode):
    """Given auto_file_dispute is MODE, When Alice completes a dispute, Then no case is opened, she is
    handed to a human, and the decision is logged (shadow: marked as shadow with the policy's verdict)."""
    world.services.governance.controls = Controls(env={"DA_CONTROL_AUTO_FILE_DISPUTE": mode})
    result = _file_unrecognised(world)
    assert "HND-" in " ".join(result.bot)
    assert world.store.cases.find_by_transaction("demo-alice", "txn-alice-unrec") is None
    d = next(d for d in world.services.governance.log.iter_decisions() if d.action == "file_dispute")
    assert d.mode == mode and not d.acted
    assert d.shadow is (mode == "shadow")
    if mode == "shadow":
        assert d.policy_outcome == "allow"


def test_amount_over_policy_limit_escalates(world):
    """Given the policy caps wrong-amount disputes at $250, When Alice disputes a larger amount of a
    larger payment, Then it goes to a human with the policy reason, and no case is opened."""
    from datetime import timedelta

    from chalicelib.core.models import Transaction, TxnStatus

    big = Transaction(txn_id="txn-alice-tv", customer_id="demo-alice", card_id="card-alice-1", card_last4="4242",
                      descriptor="BESTBUY.COM 00099999", merchant_name="Best Buy", mcc="5732", amount_minor=89900,
                      status=TxnStatus.posted, occurred_at=world.now - timedelta(days=5),
                      posted_at=world.now - timedelta(days=4), channel="ecommerce")
    world.store.transactions.put(big)
    em = world.emulator("demo-alice")
    for text in ["I want to dispute the 899 best buy payment", "wrong amount", "300", "yes", "it was on sale for less"]:
        em.send(text)
    result = em.send("yes")
    assert "specialist" in " ".join(result.bot) and "HND-" in " ".join(result.bot)
    assert world.store.cases.find_by_transaction("demo-alice", "txn-alice-tv") is None
    d = next(d for d in world.services.governance.log.iter_decisions() if d.action == "file_dispute")
    assert d.outcome == "escalate" and "amount_over_limit" in d.reasons


def test_audit_verify_replay_explain_after_conversations(world):
    """Given a filing, a hold release and handoffs in the log, When the audit commands run, Then verify
    and replay exit 0 and explain prints a customer-readable account without scores."""
    from chalicelib.governance.audit import main

    _file_unrecognised(world)
    world.emulator(None).send("talk to an agent")
    log = world.services.governance.log
    out = io.StringIO()
    assert main(["verify"], log=log, out=out) == 0, out.getvalue()
    out = io.StringIO()
    assert main(["replay"], log=log, out=out) == 0, out.getvalue()
    actions = {d.action for d in log.iter_decisions()}
    assert {"file_dispute", "handoff"} <= actions
    for d in log.iter_decisions():
        out = io.StringIO()
        assert main(["explain", d.decision_id], log=log, out=out) == 0
        text = out.getvalue()
        assert text.strip() and "risk_score" not in text


def test_tampering_with_a_chat_decision_is_detected(world):
    """Given decisions from a chat, When one stored record is edited, Then verify fails naming it."""
    import sqlite3

    from chalicelib.governance.audit import main
    from chalicelib.governance.decision_log import SqliteDecisionStore

    _file_unrecognised(world)
    log = world.services.governance.log
    target = next(d for d in log.iter_decisions() if d.action == "file_dispute")
    table = SqliteDecisionStore.TABLE
    con = sqlite3.connect(world.settings.sqlite_path)
    con.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")  # what someone with file access could do
    doc = con.execute(f"SELECT doc FROM {table} WHERE decision_id=?", (target.decision_id,)).fetchone()[0]
    con.execute(f"UPDATE {table} SET doc=? WHERE decision_id=?", (doc.replace('"allow"', '"deny"'), target.decision_id))
    con.commit()
    out = io.StringIO()
    assert main(["verify"], log=log, out=out) == 1
    assert target.decision_id in out.getvalue()


def test_a_long_answer_starting_with_sorry_is_not_a_correction(world):
    """Given the bot asked what happened, When the customer's answer starts with "sorry" and mentions
    an amount, Then it is kept as the description and the disputed amount is unchanged."""
    em = world.emulator("demo-alice")
    for text in ["I want to dispute the amazon payment from yesterday", "wrong amount", "10", "yes"]:
        em.send(text)
    result = em.send("sorry I don't remember exactly but it was about 20 dollars more than the price shown")
    assert result.dialog_action == "ConfirmIntent"
    assert "$10.00" in " ".join(result.bot) and "changed the disputed amount" not in " ".join(result.bot)
