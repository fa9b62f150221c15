"""The e-mail deployment acts on the triage's scope (issue 11): spam, newsletters and robots reach
nobody and are never answered, yet stay listed; mail about another product is redirected with its
reason; every complaint that is ours reaches a person or a case, whoever wrote it."""
from __future__ import annotations

import json

import pytest

from chalicelib.core.models import TriageStatus
from chalicelib.governance.metrics import GovernanceMetrics
from chalicelib.ingest.skipped import main as list_skipped_main, skipped_rows
from tests.ingest.test_email_followup import emails, mailroom  # noqa: F401  (the fixture)
from tests.ingest.test_email_ingest import mail, put_and_record

STRANGER = "sam.rivers@fastmail.example"
SPAM = ("Cheap meds online!!! Order today and save 80% on all pills. Free shipping worldwide. Click here to buy "
        "now. Limited offer.")
# Reads like a dispute; only its List-* headers say it is a newsletter.
NEWSLETTER = ("This week in payments: how chargebacks work, why shoppers get charged twice by merchants, and what "
              "the new dispute rules mean for card issuers. Read the full story on our website.")
THANKS = "Thank you so much, everything is sorted now. Have a lovely weekend."
OUT_OF_OFFICE = "I am out of the office until Monday 14 December with limited access to email."
MORTGAGE = ("My mortgage servicer has miscalculated the escrow on my home loan again and my monthly mortgage payment "
            "went up by $312. I want the escrow analysis redone and the shortage removed.")
DUPLICATE = "I was charged twice by Costco Wholesale, $177.90, for one shopping trip. Please refund the duplicate charge."


def ingest(w, body: str, *, sender: str = STRANGER, subject: str = "Hello", headers: str = "", key: str | None = None):
    key = key or f"inbound/{abs(hash((body, sender, headers)))}"
    raw = headers.encode() + mail(sender=sender, subject=subject, body=body, message_id=f"<{abs(hash(key))}@m.example>")
    return w.service.handle_sqs_record(put_and_record(w, key, raw)).objects[0]


def decision_of(w, out):
    return next(d for d in w.decisions() if d.decision_id == out.decision_id)


@pytest.fixture
def counted(mailroom):  # noqa: F811
    """The mailroom with the follow-up's metrics written to a list."""
    lines: list[str] = []
    mailroom.service.followup.metrics = GovernanceMetrics(sink=lines.append, enabled=True)
    mailroom.metric_lines = lines
    return mailroom


def metric(lines: list[str], name: str) -> list[dict]:
    return [d for d in map(json.loads, lines) if name in d]


def test_spam_from_a_stranger_opens_nothing_sends_nothing_and_is_listed(counted):
    """Given pharmacy spam from an address we do not know / When it is ingested (and delivered again)
    Then no ticket, no case, no e-mail; the record is kept as skipped with the stable code
    not_a_complaint in no agent's queue, the decision log holds an allow decision with that reason,
    the skip is counted once, and the auditor's listing shows it."""
    out = ingest(counted, SPAM, subject="80% OFF today")
    again = ingest(counted, SPAM, subject="80% OFF today")

    assert (out.ticket_id, out.case_id, again.ticket_id) == (None, None, None)
    assert list(counted.outbox.glob("*.eml")) == [] and list(counted.outbox.glob("*.sns.json")) == []
    rec = counted.store.triage.get(out.record_id)
    assert (rec.status, rec.reasons, rec.queue) == (TriageStatus.skipped, ["not_a_complaint"], "not_a_complaint")
    decision = decision_of(counted, out)
    assert (decision.outcome, decision.reasons) == ("allow", ["not_a_complaint"])
    assert [m["Reason"] for m in metric(counted.metric_lines, "EmailSkipped")] == ["not_a_complaint"]
    [listed] = skipped_rows(counted.store)
    assert listed["record_id"] == out.record_id and listed["sender"] == "s***@fastmail.example"


def test_a_newsletter_that_reads_like_a_dispute_is_skipped_by_its_list_headers(counted):
    """Given a payments newsletter whose words read like a duplicate-charge complaint, sent with
    List-Id and List-Unsubscribe / When it is ingested / Then its headers decide: skipped as
    automated_mail (the record names the header), no ticket, no acknowledgement."""
    headers = "List-Id: <weekly.payments-news.example>\r\nList-Unsubscribe: <https://payments-news.example/u>\r\n"
    out = ingest(counted, NEWSLETTER, sender="editor@payments-news.example", subject="Issue 212", headers=headers)

    rec = counted.store.triage.get(out.record_id)
    assert rec.triage["scope"] == "ours"  # the words alone would have opened a disputes ticket
    assert (rec.status, rec.reasons, rec.automated) == (TriageStatus.skipped, ["automated_mail"], "mailing_list")
    assert out.ticket_id is None and list(counted.outbox.glob("*")) == []
    assert counted.service.followup.run(rec, out.outcome, rec.reasons).ack_skipped == "mailing_list"


def test_a_customers_auto_reply_is_skipped_and_not_answered(counted):
    """Given Alice's out-of-office reply, marked Auto-Submitted / When it is ingested
    Then it is skipped as automated mail even though she is a customer: answering it would loop."""
    out = ingest(counted, OUT_OF_OFFICE, sender="alice@example.com", subject="Automatic reply: your dispute",
                 headers="Auto-Submitted: auto-replied\r\n")

    rec = counted.store.triage.get(out.record_id)
    assert rec.matched_customer_id == "demo-alice"
    assert (rec.status, rec.automated, out.ticket_id) == (TriageStatus.skipped, "auto_submitted", None)
    assert list(counted.outbox.glob("*.eml")) == []


def test_a_known_customers_mail_that_reads_as_no_complaint_reaches_a_person(counted):
    """Given Alice, a customer, writes a short note that triage reads as no complaint
    When it is ingested / Then a person gets a general ticket (the verdict is least sure where a miss
    costs most), and Alice's acknowledgement with the reference is marked auto-replied, so an
    out-of-office responder of hers that honours RFC 3834 does not answer it back."""
    out = ingest(counted, THANKS, sender="alice@example.com", subject="Thanks")

    rec = counted.store.triage.get(out.record_id)
    assert rec.triage["scope"] == "not_a_complaint" and rec.reasons == ["not_a_complaint", "known_customer"]
    ticket = counted.tickets.get(out.ticket_id)
    assert (ticket.queue.value, ticket.reason, rec.queue) == ("general", "email_general", "general_support")
    [ack] = emails(counted.outbox)
    assert ack["To"] == "a***@example.com" and ack["Auto-Submitted"] == "auto-replied"
    assert ticket.ticket_id in ack.get_body(("plain",)).get_content()


def test_mail_about_another_product_is_redirected_and_the_stranger_told_where_it_went(counted):
    """Given a stranger's letter about a mortgage escrow shortage / When it is ingested
    Then it is routed as other_product: the record's queue is other_products (never disputes or
    fraud), a general-support ticket whose reason is other_product and whose summary names the
    mortgage; the sender hears it is about a mortgage and which team has it, quoting nothing."""
    out = ingest(counted, MORTGAGE, subject="Escrow shortage again")

    rec = counted.store.triage.get(out.record_id)
    assert (rec.queue, rec.reasons, rec.status) == ("other_products", ["other_product"], TriageStatus.escalated)
    ticket = counted.tickets.get(out.ticket_id)
    assert (ticket.queue.value, ticket.reason) == ("general", "other_product")
    assert "mortgage" in ticket.summary and "not a card dispute" in ticket.summary
    [ack] = emails(counted.outbox)
    text, html = ack.get_body(("plain",)).get_content(), ack.get_body(("html",)).get_content()
    assert ack["To"] == "s***@fastmail.example" and ack["Auto-Submitted"] == "auto-replied"
    for part in (text, html):
        assert "another product (mortgage)" in part and "customer service team" in part
        for quoted in ("312", "escrow", "Escrow", "servicer", ticket.ticket_id):
            assert quoted not in part, quoted
    assert [m["Product"] for m in metric(counted.metric_lines, "EmailRedirected")] == ["mortgage"]


def test_a_customers_letter_about_another_product_reaches_a_person_and_names_the_reference(counted):
    """Given Alice writes about her mortgage / When it is ingested / Then a person has the redirect
    ticket, and Alice, at the address on file, is told where it went with its reference."""
    out = ingest(counted, MORTGAGE, sender="alice@example.com", subject="Escrow shortage again")

    ticket = counted.tickets.get(out.ticket_id)
    assert ticket.reason == "other_product" and counted.store.triage.get(out.record_id).matched_customer_id == "demo-alice"
    [ack] = emails(counted.outbox)
    text = ack.get_body(("plain",)).get_content()
    assert ack["To"] == "a***@example.com" and ticket.ticket_id in text and "another product (mortgage)" in text


def test_a_clear_dispute_from_an_unknown_sender_reaches_the_disputes_desk(counted):
    """Given a clear duplicate-charge complaint, within policy, from an address no customer has
    When it is ingested / Then it does not end as a bare record: the disputes desk gets a ticket
    saying the sender is not identified, and the sender gets the plain acknowledgement."""
    out = ingest(counted, DUPLICATE, subject="Charged twice")

    assert out.outcome == "allow" and out.case_id is None
    ticket = counted.tickets.get(out.ticket_id)
    assert (ticket.queue.value, ticket.reason) == ("disputes", "email_dispute")
    assert "sender not identified" in ticket.summary
    [ack] = emails(counted.outbox)
    assert ack["To"] == "s***@fastmail.example" and "could not link it to an account" in ack.get_body(("plain",)).get_content()


def test_a_protected_signal_in_mail_read_as_no_complaint_still_reaches_a_person(counted):
    """Given a stranger's note that reads as no complaint but says their husband passed away
    When it is ingested / Then it is not skipped: a person in vulnerable_customers has it."""
    body = "My husband passed away last month and I do not know what to do with his cards. Please help me."
    out = ingest(counted, body, subject="Please help")

    rec = counted.store.triage.get(out.record_id)
    assert rec.status is not TriageStatus.skipped and "vulnerable_customer" in rec.reasons
    assert counted.tickets.get(out.ticket_id).queue.value == "vulnerable_customers"


def test_the_skipped_listing_command_prints_one_line_per_skipped_mail(counted, capsys):
    """Given spam and a newsletter skipped / When the auditor runs the listing for automated mail
    Then one JSON line names the newsletter, its header code and its masked sender; no body text."""
    ingest(counted, SPAM, subject="80% OFF today")
    ingest(counted, NEWSLETTER, sender="editor@payments-news.example", subject="Issue 212",
           headers="List-Id: <weekly.payments-news.example>\r\n")

    assert list_skipped_main(["--code", "automated_mail"], store=counted.store) == 0
    [line] = capsys.readouterr().out.splitlines()
    row = json.loads(line)
    assert (row["skip_code"], row["automated"], row["sender"]) == ("automated_mail", "mailing_list", "e***@payments-news.example")
    assert "chargebacks" not in line


def test_robot_mail_is_stored_skipped_and_listed_on_both_backends(world):
    """Given an out-of-office reply marked Auto-Submitted / When the consumer ingests it on SQLite and
    on DynamoDB / Then the record is kept, skipped with the code automated_mail and the header code,
    its decision is logged, and the skipped listing finds it on either backend."""
    out = ingest(world, OUT_OF_OFFICE, subject="Automatic reply", headers="Auto-Submitted: auto-replied\r\n")

    rec = world.store.triage.get(out.record_id)
    assert (rec.status, rec.reasons, rec.automated, out.queue) == (TriageStatus.skipped, ["automated_mail"],
                                                                   "auto_submitted", "not_a_complaint")
    assert decision_of(world, out).reasons == ["automated_mail"]
    assert [r.record_id for r in world.store.triage.list_skipped("automated_mail")] == [out.record_id]


@pytest.mark.parametrize("product, words", [("credit_reporting", "credit reporting"), ("mortgage", "mortgage"),
                                            ("Mortgage <b>now</b>", ""), (None, ""), ("x" * 80, "")])
def test_a_redirect_names_only_a_plain_product_label(product, words):
    """Given the triage's product label (or something that is not one) / When a redirect names it
    Then a plain label reads as words and anything else names no product at all, so no text of the
    sender's can reach the acknowledgement through it."""
    from chalicelib.ingest.unmatched import product_words, redirect_notice

    assert product_words(product) == words
    text = redirect_notice("r-1", "x@y.example", product=product, team="customer service").text
    assert ("another product (" + words + ")" in text) if words else "another product, which" in text
    assert "<b>" not in text
