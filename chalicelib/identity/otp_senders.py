"""Out-of-band delivery of step-up one-time codes: a local outbox file for development, SMS in AWS.

The code itself is a working credential for its lifetime, so it goes to the customer's channel
only; what is logged is the masked destination.
"""
from __future__ import annotations

import logging
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Protocol

from chalicelib.core.clock import outbound_time
from chalicelib.core.models import Customer, utcnow
from chalicelib.identity.errors import OtpDeliveryError

logger = logging.getLogger(__name__)


def mask_phone(phone: str) -> str:
    """Enough for the customer to recognise their number, nothing more."""
    digits = re.sub(r"\D", "", phone or "")
    return "***-" + (digits[-4:] if len(digits) >= 4 else "****")


class OtpSender(Protocol):
    def send(self, customer: Customer, code: str) -> None: ...


class LocalOutboxSender:
    """The local stand-in for SMS: one line per code in a file the console / web chat shows.

    The code goes to the outbox file only, never to the log: logs are shipped and retained,
    and a code in them is a working credential for its lifetime.
    """

    def __init__(self, path: str | Path, clock: Callable[[], datetime] = utcnow) -> None:
        self._path = Path(path)
        self._clock = clock

    @property
    def path(self) -> Path:
        return self._path

    def send(self, customer: Customer, code: str) -> None:
        masked = mask_phone(customer.phone)
        line = f"{outbound_time(self._clock())} {customer.customer_id} {masked} {code}\n"
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as fh:
                fh.write(line)
        except OSError as exc:
            raise OtpDeliveryError(f"local outbox not writable: {type(exc).__name__}") from exc
        logger.info(
            "one-time code sent", extra={"customer_id": customer.customer_id, "destination": masked, "channel": "local"}
        )


def latest_local_code(path: str | Path, customer_id: str) -> str | None:
    """The newest code in the local outbox for this customer (for the emulator / web console)."""
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return None
    for line in reversed(lines):
        fields = line.split()
        if len(fields) == 4 and fields[1] == customer_id:
            return fields[3]
    return None


def _e164(phone: str) -> str:
    digits = re.sub(r"\D", "", phone or "")
    if not digits:
        raise OtpDeliveryError("customer has no phone number")
    return "+" + digits


class SnsSmsSender:
    """Sends the code by SMS through Amazon SNS (transactional route, so it is not throttled or
    dropped as marketing)."""

    def __init__(self, client: Any, *, ttl_s: int = 300, sender_id: str | None = None) -> None:
        self._client = client
        self._ttl_min = max(1, ttl_s // 60)
        self._sender_id = sender_id

    def send(self, customer: Customer, code: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        attrs: dict[str, dict[str, str]] = {
            "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}
        }
        if self._sender_id:
            attrs["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": self._sender_id}
        message = (
            f"Your verification code is {code}. It expires in {self._ttl_min} minutes. "
            "We will never ask you to read it to anyone who calls you."
        )
        try:
            self._client.publish(PhoneNumber=_e164(customer.phone), Message=message, MessageAttributes=attrs)
        except (ClientError, BotoCoreError) as exc:
            raise OtpDeliveryError(f"SNS publish failed: {type(exc).__name__}") from exc
        logger.info(
            "one-time code sent",
            extra={"customer_id": customer.customer_id, "destination": mask_phone(customer.phone), "channel": "sms"},
        )
