"""A forwarded email ends like a chat does (issue 10): a billing error about a matched payment opens
(or joins) the case under the decision policy, an email that needs a person becomes a routed ticket,
and the customer gets one acknowledgment with the reference and what happens next, by when."""
from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path

import pytest

from chalicelib.core.models import TriageRecord, TriageStatus
from chalicelib.core.pci import find_pans
from chalicelib.ingest.followup import EmailFollowUp, ticket_reason
from tests.ingest.conftest import READ_AT
from tests.ingest.test_email_ingest import mail, put_and_record

DUPLICATE = "I was charged twice by Costco Wholesale, $177.90, for one shopping trip. Please refund the duplicate charge."
LEGAL = ("I was charged twice for the same flight by Delta Air Lines, $389.20. If this is not refunded I will take "
         "legal action and go to my solicitor.")


@pytest.fixture
def mailroom(sqlite_world, tmp_path):
    """The ingest world with the follow-up wired as the composition root wires it: a ticket desk on
    SQLite, the team's topics and the customer's email in one outbox directory."""
    from chalicelib.governance.policy import PolicyStore
    from chalicelib.outbox import LocalOutbox
    from chalicelib.tickets.desk import TicketDesk
    from chalicelib.tickets.notify import LocalTopicOutbox
    from chalicelib.tickets.store_sqlite import SqliteTicketStore

    from chalicelib.demo.demo_data import build
    from tests.ingest.conftest import ANCHOR

    w = sqlite_world
    for card in build(ANCHOR).cards:  # the card's type decides the rule (Reg E / Reg Z) behind the deadline
        if card.customer_id == "demo-alice":
            w.store.cards.put(card)
    repo = SqliteTicketStore(tmp_path / "tickets.db")
    repo.create_schema()
    outbox = tmp_path / "outbox"
    desk = TicketDesk(repo, w.store, LocalTopicOutbox(outbox), lambda: READ_AT)
    w.service.followup = EmailFollowUp(w.store, w.decision_log, desk, LocalOutbox(outbox), w.guard, lambda: READ_AT,
                                       PolicyStore.from_env().current, own_addresses=frozenset({"disputes@dispute-assistant.example"}))
    w.tickets, w.outbox = repo, outbox
    yield w
    repo.close()


def send(w, body: str, n: int = 1, subject: str = "Charge problem"):
    raw = mail(body=body, subject=subject, message_id=f"<{abs(hash(body))}@mail.example.com>")
    return w.service.handle_sqs_record(put_and_record(w, f"inbound/{abs(hash(body))}", raw, f"sqs-{n}")).objects[0]


def emails(outbox: Path) -> list:
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in sorted(outbox.glob("*.eml"))]


def test_a_billing_error_about_a_matched_payment_opens_one_case_and_acknowledges_it(mailroom):
    """Given Alice writes from her address on file about a duplicate Costco charge within policy
    When the email is ingested
    Then a case on that payment is opened through the email channel, under a file_dispute decision,
    and she gets one acknowledgment naming the case, the next deadline and only her card's last 4."""
    out = send(mailroom, DUPLICATE)

    case = mailroom.store.cases.get("demo-alice", out.case_id)
    assert (case.txn_id, case.channel, case.reason.value) == ("txn-alice-0022", "email", "duplicate")
    assert out.ticket_id is None
    assert any(d.action == "file_dispute" and d.channel == "email" for d in mailroom.decisions())
    [ack] = emails(mailroom.outbox)
    text = ack.get_body(("plain",)).get_content()
    html = ack.get_body(("html",)).get_content()
    assert out.case_id in ack["Subject"] and out.case_id in text and out.case_id in html
    assert "ending 7781" in text and "Next step by" in text and re.search(r"\d{2} \w+ 2026", text)
    assert not find_pans(text) and not find_pans(html)


def test_the_same_sqs_message_delivered_again_opens_and_sends_nothing_new(mailroom):
    """Given an email already handled / When SQS delivers the same message twice more
    Then the outcome names the same case and the outbox still holds one acknowledgment."""
    first = send(mailroom, DUPLICATE)
    again = [send(mailroom, DUPLICATE, n) for n in (2, 3)]

    assert {o.case_id for o in again} == {first.case_id}
    assert [c.txn_id for c in mailroom.store.cases.list_for_customer("demo-alice")].count("txn-alice-0022") == 1
    assert len(list(mailroom.outbox.glob("ack-*.eml"))) == 1


def test_an_email_about_a_payment_already_disputed_joins_its_case(mailroom):
    """Given a case already open on the Costco payment (from chat) / When Alice emails about it
    Then the email joins that case: no second case, and her acknowledgment names the first one."""
    from chalicelib.cases.disputes import open_case
    from chalicelib.core.models import DisputeReason

    txn = mailroom.store.transactions.get("demo-alice", "txn-alice-0022")
    chat_case, _ = open_case(mailroom.store, txn, DisputeReason.duplicate, txn.amount_minor, READ_AT, None, "", "chat")

    out = send(mailroom, DUPLICATE)

    assert out.case_id == chat_case.case_id
    assert [c.case_id for c in mailroom.store.cases.list_for_customer("demo-alice") if c.txn_id == txn.txn_id] == [chat_case.case_id]
    assert chat_case.case_id in emails(mailroom.outbox)[0]["Subject"]


def test_a_legal_threat_becomes_a_complaints_ticket_announced_once(mailroom):
    """Given an email threatening legal action about a charge / When it is ingested (and replayed)
    Then one ticket sits in the complaints queue, created by email, announced on its topic once,
    and the acknowledgment gives the ticket reference and the SLA time."""
    out = send(mailroom, LEGAL, subject="Duplicate charge")
    send(mailroom, LEGAL, 2, subject="Duplicate charge")

    ticket = mailroom.tickets.get(out.ticket_id)
    assert (ticket.queue.value, ticket.created_by.value, ticket.reason) == ("complaints", "email", "legal_threat")
    assert [p.name for p in mailroom.outbox.glob("*.sns.json")] == [f"{ticket.ticket_id}.sns.json"]
    [ack] = emails(mailroom.outbox)
    text = ack.get_body(("plain",)).get_content()
    assert ticket.ticket_id in text and ticket.sla_due.strftime("%d %B %Y") in text


def test_a_billing_error_the_assistant_may_not_file_goes_to_the_disputes_desk(mailroom):
    """Given a complaint about a payment outside the dispute window (Delta, 150 days old)
    When it is ingested / Then no case is opened and a person on the disputes desk gets a ticket."""
    out = send(mailroom, "I was charged twice for the same flight by Delta Air Lines, $389.20. Please refund the duplicate charge.")

    assert out.case_id is None
    assert mailroom.tickets.get(out.ticket_id).queue.value == "disputes"


def test_a_sender_who_is_no_customer_gets_a_ticket_and_only_a_plain_acknowledgement(mailroom):
    """Given a mail from an address that matches no customer / When it is ingested
    Then a person gets a ticket, and the address nobody verified gets only the plain acknowledgement
    (tests/ingest/test_unmatched_ack.py): no reference, no case, nothing of the mail."""
    raw = mail(sender="stranger@elsewhere.example", body=LEGAL)
    out = mailroom.service.handle_sqs_record(put_and_record(mailroom, "inbound/stranger", raw)).objects[0]

    assert out.ticket_id is not None
    [ack] = emails(mailroom.outbox)
    assert ack["Subject"] == "We have received your email"
    assert out.ticket_id not in ack.as_string() and "Delta" not in ack.as_string()


def record(category: str, reasons=(), status=TriageStatus.triaged) -> TriageRecord:
    return TriageRecord(record_id="r", s3_bucket="b", s3_key="k", status=status, triage={"category": category},
                        reasons=list(reasons))


@pytest.mark.parametrize("category, reasons, expected", [
    ("duplicate_charge", ["vulnerable_customer", "legal_threat"], "vulnerable_customer"),
    ("duplicate_charge", ["legal_threat"], "legal_threat"),
    ("out_of_scope", ["regulator_mention"], "regulator_mention"),
    ("unauthorised", ["high_urgency"], "email_fraud"),
    ("lost_or_stolen", [], "email_fraud"),
    ("incorrect_amount", ["amount_over_limit"], "amount_over_limit"),
    ("not_received", ["classifier_unsure"], "email_dispute"),
    ("out_of_scope", ["high_urgency"], "high_urgency"),
    ("out_of_scope", ["classifier_unsure"], "email_general"),
])
def test_an_email_ticket_is_routed_by_its_most_pressing_reason(category, reasons, expected):
    """Given a triaged email's category and reasons / When its ticket reason is chosen
    Then vulnerability and legal exposure come first, then fraud, then the payment problem."""
    assert ticket_reason(record(category, reasons), reasons) == expected


@pytest.mark.parametrize("reason, queue", [("vulnerable_customer", "vulnerable_customers"), ("legal_threat", "complaints"),
                                           ("email_fraud", "fraud"), ("email_dispute", "disputes"),
                                           ("email_general", "general")])
def test_each_email_ticket_reason_lands_in_its_queue(reason, queue):
    """Given the routing table (data) / When an email's ticket reason is routed / Then it reaches its team."""
    from chalicelib.tickets.routing import route_for

    assert route_for(reason).queue.value == queue


def test_an_unreadable_email_is_routed_to_general_support():
    """Given a mail too large to triage / When its ticket reason is chosen / Then a person reads it raw."""
    rec = record("", ["email_too_large"], TriageStatus.rejected_too_large)
    assert ticket_reason(rec, rec.reasons) == "email_unreadable"


def test_the_follow_up_refuses_to_be_built_without_a_desk():
    """Given no ticket desk / When the follow-up is built / Then it says what it needs."""
    from chalicelib.core.settings import Settings
    from chalicelib.ingest.followup import build_email_followup

    with pytest.raises(TypeError, match="ticket desk"):
        build_email_followup(Settings(), store=None, decision_log=None, desk=None, idempotency=None,
                             policy_store=None, clock=lambda: READ_AT)


def test_the_same_mail_stored_twice_by_ses_opens_one_case_and_sends_one_acknowledgment(mailroom):
    """Given one mail (one Message-ID) stored under two S3 keys, as a double delivery to the inbox
    When both S3 events are handled / Then both name the same case and one acknowledgment exists
    (the second reads the first's follow-up back from the idempotency guard)."""
    raw = mail(body=DUPLICATE, subject="Charge problem", message_id="<twice@mail.example.com>")
    first = mailroom.service.handle_sqs_record(put_and_record(mailroom, "inbound/a", raw, "sqs-a")).objects[0]
    second = mailroom.service.handle_sqs_record(put_and_record(mailroom, "inbound/b", raw, "sqs-b")).objects[0]

    assert second.duplicate and second.case_id == first.case_id is not None
    assert len(list(mailroom.outbox.glob("ack-*.eml"))) == 1


def test_an_email_disputing_a_released_hold_feeds_the_hold_release_guard_like_chat(mailroom, tmp_path):
    """Given hold release under rollout, and Alice's payment whose hold the assistant released after step-up
    When she emails that the payment was not hers (and SQS delivers it again, and she writes once more)
    Then auto_release_hold sees one disagreement with the rules, as when she says so in chat (the rules'
    hold was right); an email disputing a payment that was never held counts nothing."""
    from datetime import timedelta

    from chalicelib.core.models import FraudAction, FraudDecision
    from chalicelib.governance.rollout import Rollout
    from chalicelib.governance.rollout_gate import RolloutGate
    from chalicelib.governance.rollout_store import Observation, SqliteRolloutStore

    gate = RolloutGate(Rollout(SqliteRolloutStore(tmp_path / "rollout.db"), clock=lambda: READ_AT))
    followup = mailroom.service.followup
    followup.rollout = gate
    released, never_held = "txn-alice-0022", "txn-alice-0021"
    mailroom.store.fraud.put(FraudDecision(decision_id="fd-released-0022", customer_id="demo-alice", txn_id=released,
                                           action=FraudAction.hold, risk_score=0.7, reason_codes=["UNUSUAL_AMOUNT"],
                                           model_version="fraud-rules-v1", released=True))

    def complaint(n: int, txn_id: str) -> TriageRecord:
        return TriageRecord(record_id=f"rec-unauth-{n}", s3_bucket="raw", s3_key=f"inbound/unauth-{n}",
                            status=TriageStatus.triaged, matched_customer_id="demo-alice", matched_txn_id=txn_id,
                            triage={"category": "unauthorised", "language": "en",
                                    "redacted_text": "I did not make this payment, my card must have been used."})

    def seen() -> list:
        return gate.rollout.store.observations("auto_release_hold", READ_AT - timedelta(days=1), READ_AT + timedelta(days=1))

    followup.run(complaint(1, never_held), "allow", [])
    assert seen() == []
    first = followup.run(complaint(2, released), "allow", [])
    followup.run(complaint(2, released), "allow", [])  # the same mail delivered again
    followup.run(complaint(3, released), "allow", [])  # a second mail about it joins the case
    assert first.case_id is not None
    assert seen() == [Observation(disagreed_with_rules=True)]


LONG_DUPLICATE = (
    "Hello,\n\nI have banked with you for many years and I rarely write, but something went wrong last week. "
    "I did my usual big shopping trip at Costco Wholesale and paid with my card as always. When I checked my "
    "statement this morning I saw that I was charged twice, $177.90 each time, for one shopping trip. The store "
    "says they only took one payment and told me to contact my bank. Please refund the duplicate charge.\n\n"
    "Thank you for your help,\nAlice")


def test_a_long_letter_whose_category_a_rule_decided_opens_the_case_like_a_short_one(mailroom):
    """Given Alice writes a letter of several paragraphs about the duplicate Costco charge (a category
    the explicit rules decide, so no BANKING77 label comes with it: its intent is "unsure")
    When the email is ingested
    Then the case is opened as for the short email: a rule's category is not an unsure classifier."""
    assert len(LONG_DUPLICATE) >= 400
    out = send(mailroom, LONG_DUPLICATE)
    assert out.case_id is not None and out.ticket_id is None, out
    case = mailroom.store.cases.get("demo-alice", out.case_id)
    assert (case.txn_id, case.reason.value) == ("txn-alice-0022", "duplicate")
