"""Whatever the scope model concludes, a legal threat, a regulator or a customer in a vulnerable
situation reaches a person, with the reason (issue 10 part B): "I will contact my lawyer" in a mail
about a credit report used to come back with no urgency at all."""
from __future__ import annotations

import pytest

from nlp.triage import triage_text
from tests.ingest.test_email_followup import mailroom, send  # noqa: F401  (the fixture)

CREDIT_REPORT_LAWYER = (
    "To whom it may concern,\n\n"
    "Equifax and Experian keep reporting a collection account on my credit report that I paid off in 2023. "
    "My credit score dropped by 80 points and the bureaus ignore my disputes.\n\n"
    "If this is not corrected by Friday I will contact my lawyer.\n\nPat")
MORTGAGE_CFPB = (
    "Hello,\n\n"
    "My mortgage servicer has miscalculated the escrow on my home loan for the second year in a row and my "
    "monthly mortgage payment went up by $400.\n\n"
    "I have already filed a complaint with the CFPB and I am writing to the ombudsman as well.\n\nRegards, Sam")
STUDENT_LOAN_BEREAVED = (
    "Hi,\n\n"
    "My husband passed away in March and I cannot keep up with the student loan payments on his loans. "
    "The loan servicer keeps calling me every day and I do not know what to do.\n\nPlease help, Maria")
NEWSLETTER_FOOTER = (
    "Spring offers are here! Discover our new rewards credit card with 3% cash back on groceries. "
    "Apply today and get a welcome bonus. Unsubscribe at any time.\n\n"
    "This message is confidential. Unauthorised use may result in legal action by our lawyers.")


@pytest.mark.parametrize("text, reason", [
    (CREDIT_REPORT_LAWYER, "legal_threat"),
    (MORTGAGE_CFPB, "regulator_mention"),
    (STUDENT_LOAN_BEREAVED, "vulnerable_customer"),
])
def test_a_protected_signal_survives_a_not_ours_verdict(text, reason):
    """Given a complaint about another product that carries a legal threat, a regulator or a
    bereavement / When it is triaged as an email / Then it is still about another product, and the
    signal is in its urgency reasons, with the author's sentence as evidence."""
    r = triage_text(text, channel="email")
    assert r.scope == "other_product" and r.category == "out_of_scope"
    assert reason in r.urgency_reasons and r.urgency > 0.4
    assert any(e["decision"] == f"urgency:{reason}" for e in r.evidence)


def test_a_legal_footer_in_a_newsletter_is_no_threat():
    """Given marketing mail with a confidentiality footer that mentions legal action and lawyers
    When it is triaged / Then it is not a complaint and no protected signal fires: nobody there
    speaks for themselves."""
    r = triage_text(NEWSLETTER_FOOTER, channel="email")
    assert r.scope == "not_a_complaint" and r.urgency_reasons == []


@pytest.mark.parametrize("body, subject, reason, queue", [
    (CREDIT_REPORT_LAWYER, "Credit report error", "legal_threat", "complaints"),
    (MORTGAGE_CFPB, "Escrow again", "regulator_mention", "complaints"),
    (STUDENT_LOAN_BEREAVED, "Please help", "vulnerable_customer", "vulnerable_customers"),
])
def test_a_not_ours_email_with_a_protected_signal_becomes_a_ticket_with_its_reason(mailroom, body, subject, reason, queue):  # noqa: F811
    """Given Alice writes about another product and threatens a lawyer, names a regulator or says her
    husband died / When the email is ingested / Then the decision escalates with that reason and a
    person in the right queue gets a ticket whose reason it is, with the mail to read."""
    out = send(mailroom, body, subject=subject)

    assert out.outcome == "escalate"
    rec = mailroom.store.triage.get(out.record_id)
    assert reason in rec.reasons and reason in rec.triage["urgency_reasons"]
    ticket = mailroom.tickets.get(out.ticket_id)
    assert (ticket.queue.value, ticket.reason) == (queue, reason)
    conv = ticket.context["conversation"]
    assert conv["kind"] == "email" and [m["role"] for m in conv["messages"]] == ["customer"]
    assert body.split("\n\n")[1][:40] in conv["messages"][0]["text"]  # the agent reads the (redacted) mail
