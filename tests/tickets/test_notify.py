"""Ticket notifications in AWS: SNS per queue and SES email, checked with botocore's Stubber."""
from __future__ import annotations

from datetime import datetime, timezone

import boto3
import pytest
from botocore.stub import ANY, Stubber

from chalicelib.outbox import UnsafeNotice
from chalicelib.tickets.notify import CustomerMailer, SesEmailNotifier, SnsTopicPublisher
from chalicelib.tickets.service import new_ticket

NOW = datetime(2026, 11, 18, 15, 0, tzinfo=timezone.utc)


def ticket(summary="double charge at the cinema"):
    return new_ticket(created_by="policy", source_ref="HND-X", reason="legal_threat", queue="complaints", priority="P2",
                      customer_ref="demo-alice", summary=summary, now=NOW)


def test_given_a_new_ticket_when_published_then_its_queue_topic_gets_a_short_redacted_summary():
    sns = boto3.client("sns", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(sns) as stub:
        stub.add_response("publish", {"MessageId": "m-1"}, {
            "TopicArn": "arn:aws:sns:us-east-1:1:da-tickets-complaints", "Message": ANY, "Subject": "New P2 ticket",
            "MessageAttributes": ANY})
        assert SnsTopicPublisher(sns, "arn:aws:sns:us-east-1:1:da-tickets").publish(ticket("card 4111 1111 1111 1111")) == "m-1"
        stub.assert_no_pending_responses()


def test_given_a_resolution_when_emailed_through_ses_then_plain_and_html_bodies_go_and_card_numbers_never():
    ses = boto3.client("ses", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    t = ticket().model_copy(update={"outcome": "helped"})
    sent = {}
    with Stubber(ses) as stub:
        stub.add_response("send_email", {"MessageId": "e-1"}, {
            "Source": "disputes@example.com", "Destination": {"ToAddresses": ["alice@example.com"]}, "Message": ANY})
        ses.meta.events.register("provide-client-params.ses.SendEmail", lambda params, **kw: sent.update(params))
        CustomerMailer(SesEmailNotifier(ses, "disputes@example.com")).resolution(t, "alice@example.com",
                                                                                "Refunded. Card 4111 1111 1111 1111.")
    body = sent["Message"]["Body"]
    assert "Refunded." in body["Text"]["Data"] and "<p>" in body["Html"]["Data"]
    assert "4111 1111 1111 1111" not in str(sent)
    with pytest.raises(UnsafeNotice):
        SesEmailNotifier(ses, "x@example.com").send(__import__("chalicelib.outbox", fromlist=["Notice"]).Notice(
            "n", "c", "email", "a@example.com", "pan 4111111111111111"))
