"""Decision log contract: the same tests on SQLite and on DynamoDB (moto)."""
from __future__ import annotations

import io
import json

import boto3
import pytest

from chalicelib.governance.decision_log import (
    GENESIS_HASH,
    PiiRejected,
    compute_hash,
    contains_pan,
    read_jsonl,
    verify_records,
)
from chalicelib.governance.policy import DecisionRequest
from tests.support.races import race


def req(amount=1_000, **kw) -> DecisionRequest:
    facts = dict(
        action="file_dispute", category="unauthorised", amount_minor=amount, currency="USD",
        txn_age_days=5, txn_status="posted", customer_dispute_count_window=0,
    )
    facts.update(kw)
    return DecisionRequest(**facts)


def fill(log, policy, n=5):
    out = []
    for i in range(n):
        out.append(log.decide(req(amount=1_000 * (i + 1) * 20), customer_id=f"cust-{i % 2}", policy=policy).decision)
    return out


def test_append_builds_a_verifiable_chain(decision_log, policy):
    """Given an empty log / When five decisions are recorded / Then seqs run 1..5, each links to its predecessor, verify passes."""
    decisions = fill(decision_log, policy)
    assert [d.seq for d in decisions] == [1, 2, 3, 4, 5]
    assert decisions[0].prev_hash == GENESIS_HASH
    for a, b in zip(decisions, decisions[1:]):
        assert b.prev_hash == a.hash
    for d in decisions:
        assert d.hash == compute_hash(d.to_record())
    result = decision_log.verify()
    assert result.ok and result.count == 5 and result.head_hash == decisions[-1].hash


def test_tampering_with_one_stored_decision_is_named(backend, policy):
    """Given five decisions / When record 3's outcome is edited in the table / Then verify fails naming seq 3 and its id."""
    kind, log, tamper = backend
    decisions = fill(log, policy)
    tamper.edit(3, lambda doc: doc.update(outcome="allow", policy_outcome="allow"))
    result = log.verify()
    assert not result.ok
    assert (result.first_bad.seq, result.first_bad.decision_id) == (3, decisions[2].decision_id)
    assert "hash" in result.first_bad.problem
    assert result.count == 2


def test_rewriting_a_record_and_its_hash_breaks_the_next_link(backend, policy):
    """Given an attacker who also recomputes record 2's hash / Then verify fails at record 2 (stored key hash) or 3 (link)."""
    kind, log, tamper = backend
    decisions = fill(log, policy)

    def rewrite(doc):
        doc["outcome"] = "deny"
        doc["hash"] = compute_hash(doc)

    tamper.edit(2, rewrite)
    bad = log.verify().first_bad
    assert (bad.seq, bad.decision_id) in {(2, decisions[1].decision_id), (3, decisions[2].decision_id)}


def test_deleting_a_record_is_detected(backend, policy):
    """Given five decisions / When record 2 is deleted / Then verify names the record after the gap."""
    kind, log, tamper = backend
    decisions = fill(log, policy)
    tamper.delete(2)
    bad = log.verify().first_bad
    assert (bad.seq, bad.decision_id) == (3, decisions[2].decision_id)
    assert "gap" in bad.problem


def test_anchored_head_catches_truncation(decision_log, policy):
    """Given the head hash published after 5 records / When the log is checked against it / Then ok; a wrong anchor fails."""
    fill(decision_log, policy)
    head = decision_log.head()[1]
    assert decision_log.verify(expected_head=head).ok
    assert not decision_log.verify(expected_head="f" * 64).ok


def test_concurrent_writers_never_fork_the_chain(decision_log, policy):
    """Given 8 threads appending 5 decisions each / Then 40 records with contiguous seqs and an intact chain."""
    def worker(n):
        for i in range(5):
            decision_log.decide(req(amount=100 + n * 10 + i), customer_id=f"c{n}", policy=policy)

    assert not race(8, worker).raised
    result = decision_log.verify()
    assert result.ok and result.count == 40
    assert [d.seq for d in decision_log.iter_decisions()] == list(range(1, 41))


def test_same_decision_id_is_recorded_once(decision_log, policy):
    """Given a decision recorded with a caller-chosen id / When the caller retries 3 times / Then one record."""
    first = decision_log.decide(req(), customer_id="c1", policy=policy, decision_id="dec_evt_abc").decision
    for _ in range(3):
        again = decision_log.decide(req(), customer_id="c1", policy=policy, decision_id="dec_evt_abc").decision
        assert again.hash == first.hash
    assert [d.decision_id for d in decision_log.iter_decisions()] == ["dec_evt_abc"]


@pytest.mark.parametrize(
    "field, value",
    [
        ("explanation", "customer said card 4111 1111 1111 1111 was stolen"),
        ("subject", {"note": "4111-1111-1111-1111"}),
        ("models", {"x": "5500000000000004"}),
    ],
)
def test_pan_guard_refuses_card_numbers(decision_log, policy, field, value):
    """Given a Luhn-valid card number in any string / When recorded / Then PiiRejected naming the field, nothing stored."""
    with pytest.raises(PiiRejected) as exc:
        decision_log.record(action="route_message", outcome="escalate", **{field: value})
    assert field in str(exc.value)
    assert "4111" not in str(exc.value)
    assert decision_log.head() is None


def test_hex_ids_pass_but_a_card_number_as_id_does_not(decision_log):
    """Given ids derived from hex digests (digit runs glued to letters) / Then recorded; given a PAN as an
    id segment / Then refused."""
    hex_id = "dec-a4111111111111111b"  # a Luhn-valid run inside a hex token
    assert decision_log.record(action="route_message", outcome="allow", decision_id=hex_id).decision_id == hex_id
    with pytest.raises(PiiRejected, match="decision_id"):
        decision_log.record(action="route_message", outcome="allow", decision_id="dec-4111111111111111")
    with pytest.raises(PiiRejected, match="subject.txn_id"):
        decision_log.record(action="route_message", outcome="allow", subject={"txn_id": "4111-1111-1111-1111"})


def test_derived_ids_are_stable_and_distinct():
    """Given the same parts twice and different parts / Then the same id, then a different one."""
    from chalicelib.governance.decision_log import derive_decision_id

    assert derive_decision_id("file_dispute", "c1", "t1") == derive_decision_id("file_dispute", "c1", "t1")
    assert derive_decision_id("file_dispute", "c1", "t1") != derive_decision_id("file_dispute", "c1", "t2")


def test_pan_detection_edges():
    """Given digit runs / Then only Luhn-valid 13-19 digit runs count, also beside other digits; amounts and dates pass."""
    assert contains_pan("4111111111111111")
    assert contains_pan("card 4111 1111 1111 1111 2029")  # PAN followed by a year
    assert contains_pan("6011.0009.9013.9424")
    assert not contains_pan("4111111111111112")  # Luhn-invalid
    assert not contains_pan("amount 1200000 on 2026-11-01, case DSP-7K2M9Q")
    assert not contains_pan("411111111111")  # 12 digits


def test_erasure_keeps_chain_verifiable_and_ref_unlinkable(decision_log, policy):
    """Given decisions of two customers / When one is erased / Then the chain verifies, their ref is no longer
    derivable (a new key gives a new ref), their history is empty, and the other customer is untouched."""
    decision_log.decide(req(), customer_id="alice", policy=policy)
    decision_log.decide(req(), customer_id="bob", policy=policy)
    decision_log.decide(req(amount=2_000), customer_id="alice", policy=policy)
    old_ref = decision_log.customer_ref("alice")
    assert len(decision_log.list_for_customer("alice")) == 2

    assert decision_log.erase_customer("alice") is True
    assert decision_log.verify().ok
    assert decision_log.list_for_customer("alice") == []
    assert decision_log.customer_ref("alice", create=False) is None
    assert decision_log.customer_ref("alice") != old_ref
    assert len(decision_log.list_for_customer("bob")) == 1
    # The log never held the id itself.
    buf = io.StringIO()
    decision_log.export_jsonl(buf)
    assert "alice" not in buf.getvalue()


def test_export_jsonl_verifies_on_its_own(decision_log, policy):
    """Given an exported log / When verified from the file / Then intact; an edited line fails at that record."""
    decisions = fill(decision_log, policy)
    buf = io.StringIO()
    assert decision_log.export_jsonl(buf) == 5
    lines = buf.getvalue().splitlines()
    assert verify_records(read_jsonl(io.StringIO("\n".join(lines)))).ok
    lines[3] = lines[3].replace('"escalate"', '"allow"').replace('"allow"', '"deny"', 1)
    bad = verify_records(read_jsonl(io.StringIO("\n".join(lines)))).first_bad
    assert (bad.seq, bad.decision_id) == (4, decisions[3].decision_id)


def test_export_since_filters_by_time(decision_log, policy):
    """Given decisions at two times / When exported since the later time / Then only the later ones."""
    from datetime import datetime, timezone

    t1 = datetime(2026, 11, 1, 10, 0, tzinfo=timezone.utc)
    t2 = datetime(2026, 11, 2, 10, 0, 0, 500, tzinfo=timezone.utc)
    decision_log.record(action="route_message", outcome="allow", at=t1)
    decision_log.record(action="route_message", outcome="allow", at=t2)
    buf = io.StringIO()
    assert decision_log.export_jsonl(buf, since=datetime(2026, 11, 2, 10, 0, tzinfo=timezone.utc)) == 1
    assert json.loads(buf.getvalue())["seq"] == 2


def test_export_to_s3(moto_aws, tmp_path, policy):
    """Given a log and an S3 bucket / When exported / Then the object holds one verifiable line per decision."""
    from tests.governance.conftest import make_log

    log = make_log("sqlite", tmp_path)
    fill(log, policy, 3)
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="audit")
    assert log.export_to_s3(s3, "audit", "decisions/2026-11.jsonl") == 3
    body = s3.get_object(Bucket="audit", Key="decisions/2026-11.jsonl")["Body"].read().decode()
    assert verify_records(read_jsonl(io.StringIO(body))).ok


def test_shadow_and_controls_are_recorded(decision_log, policy):
    """Given a capability in shadow / When decided / Then logged with shadow=True and the policy's verdict, not acted on."""
    from chalicelib.governance.controls import Controls

    ctl = Controls(env={"DA_CONTROL_AUTO_FILE_DISPUTE": "shadow"})
    r = decision_log.decide(req(), customer_id="c", policy=policy, capability="auto_file_dispute", controls=ctl)
    assert (r.acted, r.outcome, r.mode) == (False, "escalate", "shadow")
    stored = decision_log.get(r.decision.decision_id)
    assert stored.shadow and stored.policy_outcome == "allow" and stored.outcome == "escalate"
    assert stored.reasons == ["shadow_mode"]


def test_the_audit_record_is_not_named_like_the_dialog_step():
    """Given the decision log and the dialog / Then the stored record is DecisionRecord and no second
    class called Decision is exported beside the dialog's step (two classes, one name, misled readers)."""
    import chalicelib.governance.decision_log as dlog
    from intents.dialog import Decision

    assert not hasattr(dlog, "Decision")
    assert dlog.DecisionRecord is not Decision and dlog.DecisionLog.get.__annotations__["return"] == "DecisionRecord | None"
