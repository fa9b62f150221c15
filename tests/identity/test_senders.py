"""Out-of-band delivery of one-time codes: a local outbox file for offline use, SNS SMS in AWS."""
from __future__ import annotations

import logging

import boto3
import pytest
from botocore.stub import ANY, Stubber

from chalicelib.core.clock import outbound_time
from chalicelib.identity import (
    LocalOutboxSender,
    OtpDeliveryError,
    SnsSmsSender,
    latest_local_code,
    mask_phone,
)
from chalicelib.core.models import Customer

from .conftest import ALICE_DOB


@pytest.fixture
def alice() -> Customer:
    return Customer(customer_id="demo-alice", name="Alice", email="a@example.com",
                    phone="+1 (555) 555-0100", date_of_birth=ALICE_DOB)


def test_mask_phone():
    """Given phone numbers in any format, Then only the last four digits survive."""
    assert mask_phone("+1 (555) 555-0100") == "***-0100"
    assert mask_phone("07700900123") == "***-0123"
    assert mask_phone("") == "***-****"


def test_local_outbox_line_and_latest_code(tmp_path, alice, clock, caplog):
    """Given two codes sent to Alice and one to Bob, Then each outbox line reads "time (UTC, to the second)
    customer masked-phone code", the latest code per customer is found, and the log mentions the
    sending but not the code."""
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "sub" / "otp-outbox.log"
    sender = LocalOutboxSender(path, clock=clock)
    bob = alice.model_copy(update={"customer_id": "demo-bob"})
    sender.send(alice, "111111")
    sender.send(bob, "222222")
    sender.send(alice, "333333")
    lines = path.read_text().splitlines()
    assert lines[0] == f"{outbound_time(clock.now)} demo-alice ***-0100 111111"  # to the second: no card-like run
    assert latest_local_code(path, "demo-alice") == "333333"
    assert latest_local_code(path, "demo-bob") == "222222"
    assert latest_local_code(path, "demo-carol") is None
    assert latest_local_code(tmp_path / "missing.log", "demo-alice") is None
    assert path.stat().st_mode & 0o077 == 0
    assert caplog.records and all("111111" not in r.getMessage() for r in caplog.records)


def test_local_outbox_unwritable_raises_delivery_error(tmp_path, alice):
    """Given an outbox path that is a directory, Then sending raises OtpDeliveryError (which the
    step-up service turns into an escalation) rather than an OSError traceback."""
    (tmp_path / "dir").mkdir()
    with pytest.raises(OtpDeliveryError):
        LocalOutboxSender(tmp_path / "dir").send(alice, "123456")


def _sns():
    client = boto3.client("sns", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    return client, Stubber(client)


def test_sns_publishes_transactional_sms_in_e164(alice):
    """Given Alice's formatted phone, Then SNS receives an E.164 number, the code, and the
    transactional SMS type."""
    client, stub = _sns()
    stub.add_response(
        "publish",
        {"MessageId": "m-1"},
        {"PhoneNumber": "+15555550100", "Message": ANY,
         "MessageAttributes": {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}},
    )
    sent = {}
    orig = client.publish

    def spy(**kw):
        sent.update(kw)
        return orig(**kw)

    client.publish = spy
    with stub:
        SnsSmsSender(client).send(alice, "654321")
        stub.assert_no_pending_responses()
    assert "654321" in sent["Message"]


def test_sns_failure_is_a_delivery_error(alice):
    """Given SNS rejects the publish, Then OtpDeliveryError is raised."""
    client, stub = _sns()
    stub.add_client_error("publish", service_error_code="InvalidParameter", http_status_code=400)
    with stub, pytest.raises(OtpDeliveryError):
        SnsSmsSender(client).send(alice, "654321")
