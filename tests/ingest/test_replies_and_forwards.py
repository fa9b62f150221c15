"""Outlook replies are replies, forwards are forwards (issue 11): the author of a reply is its From,
not the merchant or the alert quoted under "-----Original Message-----", and a customer who forwards a
merchant's mail is still the customer we match and answer."""
from __future__ import annotations

import pytest

from chalicelib.ingest.mail_headers import automated_sender, parse_headers
from nlp.email_parse import parse_email
from tests.ingest.test_email_followup import emails, mailroom  # noqa: F401  (the fixture)
from tests.ingest.test_email_ingest import put_and_record

COMPLAINT = "Costco Wholesale charged me twice, $177.90, for one shopping trip. Please refund the duplicate charge."
RECEIPT = "Thank you for shopping at Costco Wholesale.\nTotal $177.90\nCard ending 7781"


def outlook(sender: str, subject: str, quoted_from: str, *, marker: str = "-----Original Message-----",
            mid: str = "<r1@mail.example>") -> bytes:
    lines = [f"Message-ID: {mid}", f"From: {sender}", "To: disputes@bank.example", f"Subject: {subject}",
             "Date: Sat, 31 Oct 2026 10:00:00 +0000", "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
             "", "Hi,", "", COMPLAINT, "", marker, f"From: {quoted_from}",
             "Sent: Friday, October 30, 2026 8:03 AM", "To: me", "Subject: Your receipt", "", RECEIPT, ""]
    return "\r\n".join(lines).encode()


@pytest.mark.parametrize("subject, marker, forwarded", [
    ("RE: Your receipt", "-----Original Message-----", False),
    ("AW: Your receipt", "-----Original Message-----", False),
    ("Your receipt", "-----Original Message-----", False),
    ("RE: Your receipt", "________________________________", False),
    ("FW: Your receipt", "-----Original Message-----", True),
    ("TR: Your receipt", "-----Original Message-----", True),
    ("RE: Your receipt", "---------- Forwarded message ---------", True),
])
def test_the_subject_or_an_explicit_separator_tells_a_forward_from_a_reply(subject, marker, forwarded):
    """Given an Outlook-style mail quoting a merchant under a separator / When it is parsed
    Then "Original Message" (or Outlook's rule line) is a forward only under a forward prefix
    (FW, TR ...); an explicit "Forwarded message" separator is a forward whatever the subject; a
    reply keeps its From as the author and drops the quoted text."""
    p = parse_email(outlook("Alice <alice@example.com>", subject, "Costco <receipts@costco.example>", marker=marker))

    assert p.from_.address == "alice@example.com" and "charged me twice" in p.body
    assert p.forwarded is forwarded
    assert (p.original_from.address if p.original_from else None) == ("receipts@costco.example" if forwarded else None)
    assert "Total $177.90" not in p.body


def ingest(w, raw: bytes, key: str):
    return w.service.handle_sqs_record(put_and_record(w, key, raw)).objects[0]


def test_a_customers_outlook_reply_quoting_a_merchant_is_matched_to_the_customer(mailroom):  # noqa: F811
    """Given Alice replies (RE:) to a Costco receipt with Outlook, the receipt quoted below
    -----Original Message----- / When it is ingested / Then the record is Alice's, not the merchant's:
    her duplicate charge opens a case on her Costco payment and she is acknowledged at her address."""
    out = ingest(mailroom, outlook("Alice <alice@example.com>", "RE: Your receipt", "Costco <receipts@costco.example>"),
                 "inbound/reply")

    rec = mailroom.store.triage.get(out.record_id)
    assert (rec.matched_customer_id, rec.original_sender) == ("demo-alice", None)
    assert mailroom.store.cases.get("demo-alice", out.case_id).txn_id == "txn-alice-0022"
    [ack] = emails(mailroom.outbox)
    assert ack["To"] == "a***@example.com" and out.case_id in ack["Subject"]


def test_a_customer_forwarding_a_merchants_mail_is_still_the_customer(mailroom):  # noqa: F811
    """Given Alice forwards (FW:) Costco's no-reply receipt with her complaint on top
    When it is ingested / Then the author, Alice, is matched (not the merchant it quotes) and acknowledged."""
    out = ingest(mailroom, outlook("Alice <alice@example.com>", "FW: Your receipt", "Costco <no-reply@costco.example>"),
                 "inbound/fw")

    rec = mailroom.store.triage.get(out.record_id)
    assert rec.matched_customer_id == "demo-alice" and rec.original_sender == "n***@costco.example"
    assert out.case_id is not None and len(emails(mailroom.outbox)) == 1


def test_a_stranger_forwarding_a_merchants_mail_wrote_to_us_and_is_acknowledged(mailroom):  # noqa: F811
    """Given someone we do not know forwards a merchant's receipt with a complaint / When it is ingested
    Then they get the plain acknowledgement (they asked us something), not a silent refusal."""
    out = ingest(mailroom, outlook("Robin <robin@fastmail.example>", "FW: Your receipt", "Costco <no-reply@costco.example>",
                                   mid="<fw2@mail.example>"), "inbound/fw2")

    assert out.ticket_id is not None
    [ack] = emails(mailroom.outbox)
    assert ack["To"] == "r***@fastmail.example" and ack["Subject"] == "We have received your email"


def test_a_colleagues_forward_is_not_acknowledged(mailroom):  # noqa: F811
    """Given a branch colleague (a domain configured as ours) forwards a stranger's complaint
    When it is ingested / Then a person has it and no acknowledgement goes out (code forwarded)."""
    mailroom.service.followup.colleague_domains = frozenset({"branch.bank.example"})
    out = ingest(mailroom, outlook("Sam <sam@branch.bank.example>", "FW: complaint", "Robin <robin@fastmail.example>",
                                   mid="<fw3@mail.example>"), "inbound/fw3")

    rec = mailroom.store.triage.get(out.record_id)
    assert out.ticket_id is not None and emails(mailroom.outbox) == []
    assert mailroom.service.followup.run(rec, out.outcome, rec.reasons).ack_skipped == "forwarded"


@pytest.mark.parametrize("headers, code", [
    ("List-Id: <news.shop.example>", "mailing_list"),
    ("List-Unsubscribe: <https://shop.example/u>", "mailing_list"),
    ("Precedence: bulk", "bulk_precedence"),
    ("Precedence: list", "bulk_precedence"),
    ("Auto-Submitted: auto-generated", "auto_submitted"),
    ("X-Autoreply: yes", "auto_submitted"),
    ("Content-Type: multipart/report; report-type=disposition-notification", "bounce"),
    ("Return-Path: <>", "bounce"),
    ("Sender: x", None),
    ("Auto-Submitted: no", None),
    ("X-Auto-Response-Suppress: All", None),
])
def test_the_header_block_says_whether_a_robot_or_a_list_sent_the_mail(headers, code):
    """Given a header block from a person, with one marker added / When it is read / Then the stable
    AUTOMATED code of that marker, or None (Outlook's suppress-replies request is no robot's mark)."""
    assert automated_sender(parse_headers(f"From: Pat <pat@x.example>\n{headers}\n".encode())) == code


@pytest.mark.parametrize("sender, code", [("MAILER-DAEMON@mx.example", "mailer_daemon"),
                                          ("no-reply@shop.example", "no_reply_sender"),
                                          ("notifications@shop.example", "no_reply_sender"),
                                          ("pat.noreply.fan@x.example", None)])
def test_daemon_and_no_reply_senders_are_automated(sender, code):
    """Given a sender address / When the headers are read / Then mail systems and no-reply senders are robots."""
    assert automated_sender(parse_headers(f"From: {sender}\n".encode())) == code


def test_bobs_outlook_reply_about_a_double_charge_disputes_the_second_charge(mailroom):  # noqa: F811
    """Given Bob replies (RE:) to a Blue Bottle receipt, quoted below "-----Original Message-----",
    saying the coffee was charged twice (two identical $6.75 payments on his card)
    When it is ingested / Then Bob is matched, and the duplicate-charge complaint links the later of
    the two identical charges (the duplicate) instead of linking nothing, and a case is opened on it."""
    raw = outlook("Okafor, Bob <bob@example.com>", "RE: Blue Bottle receipt", "Blue Bottle <receipts@bluebottle.example>",
                  mid="<bob-dup@mail.example>").replace(
        COMPLAINT.encode(), b"Blue Bottle Coffee charged my card twice for the same coffee - two charges of $6.75. "
                            b"Please refund the duplicate charge.")
    out = ingest(mailroom, raw, "inbound/bob-dup")

    rec = mailroom.store.triage.get(out.record_id)
    assert (rec.matched_customer_id, rec.matched_txn_id) == ("demo-bob", "txn-bob-dup-2")
    assert mailroom.store.cases.get("demo-bob", out.case_id).txn_id == "txn-bob-dup-2"


def test_only_identical_charges_make_a_duplicate_claim_link_one_of_them():
    """Given two identical charges and, separately, two different charges that both fit a mention
    When a duplicate-charge complaint's mentions are searched / Then the identical pair links the
    later charge; the different pair links nothing (a wrong link is worse than none)."""
    from datetime import date, datetime, timedelta, timezone

    from chalicelib.core.models import Transaction, TxnStatus
    from chalicelib.payments.search import SearchConfig, find_payment_for_mentions

    at = datetime(2026, 11, 1, 8, 0, tzinfo=timezone.utc)

    def txn(tid: str, minutes: int, descriptor: str = "SQ *BLUE BOTTLE COFFEE") -> Transaction:
        return Transaction(txn_id=tid, customer_id="c", card_id="card-1", card_last4="5454", descriptor=descriptor,
                           merchant_name="Blue Bottle Coffee", mcc="5814", amount_minor=675, status=TxnStatus.posted,
                           occurred_at=at + timedelta(minutes=minutes))

    day = [(date(2026, 11, 1), date(2026, 11, 1))]
    same = [txn("t-2", 1), txn("t-1", 0)]
    other = [txn("t-1", 0), txn("t-3", 5, "SQ *BLUE BOTTLE KIOSK")]
    assert find_payment_for_mentions(same, [(675, "USD")], [], day, SearchConfig(), duplicate_claim=True).txn_id == "t-2"
    assert find_payment_for_mentions(same, [(675, "USD")], [], day, SearchConfig()) is None
    assert find_payment_for_mentions(other, [(675, "USD")], [], day, SearchConfig(), duplicate_claim=True) is None
