"""Outbound customer notices: SNS SMS in AWS, one file per message in ``.data/outbox/`` locally.

Why one file per message, named by the message id: a replayed event rewrites the same file instead
of sending twice, and a person (or a test) can read exactly what the customer would receive.
SMS become ``<id>.sms.json``, email ``<id>.eml``. Every text passes the PAN guard before it leaves,
and the recipient is stored masked (last 4 characters of a phone number only).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from chalicelib.core.pci import find_pans


class UnsafeNotice(ValueError):
    """A notice carried a card number: refused, never sent."""


@dataclass(frozen=True)
class Notice:
    message_id: str  # stable per cause (e.g. the decision id): the idempotency key of the send
    customer_id: str
    channel: str  # sms | email
    to: str  # phone (E.164) or email address
    text: str
    subject: str = ""
    html: str = ""  # an email's HTML alternative (the plain text is always sent too)
    # Extra email headers, e.g. ("Auto-Submitted", "auto-replied") on an automatic acknowledgement
    # (RFC 3834), so other robots do not answer it and start a mail loop.
    headers: tuple[tuple[str, str], ...] = ()


def mask_recipient(to: str) -> str:
    if "@" in to:
        local, _, domain = to.partition("@")
        return f"{local[:1]}***@{domain}"
    return "*" * max(0, len(to) - 4) + to[-4:]


def mime_boundary(message_id: str) -> str:
    """A boundary without digits, the same for the same message: the library's default is 19 random
    digits, Luhn-valid one time in ten, which every card-number scanner (ours included) then flags."""
    digest = hashlib.sha256(message_id.encode()).hexdigest()[:32]
    return "da-" + digest.translate(str.maketrans("0123456789", "ghijklmnop"))


def check_notice(notice: Notice) -> None:
    """The last guard before anything leaves for a person: a card number refuses the notice."""
    if find_pans(notice.text) or find_pans(notice.subject) or find_pans(notice.html):
        raise UnsafeNotice("notice text contains a card number")


class Notifier(Protocol):
    def send(self, notice: Notice) -> str:
        """Deliver; returns a provider message id (or the outbox path). Raises on failure."""
        ...


class LocalOutbox:
    def __init__(self, directory: str | Path):
        self.directory = Path(directory)

    def send(self, notice: Notice) -> str:
        check_notice(notice)
        self.directory.mkdir(parents=True, exist_ok=True)
        if notice.channel == "email":
            msg = EmailMessage()
            msg["To"] = mask_recipient(notice.to)
            msg["From"] = "alerts@dispute-assistant.example"
            msg["Subject"] = notice.subject or "About a payment on your card"
            msg["Message-ID"] = f"<{notice.message_id}@dispute-assistant.example>"
            for name, value in notice.headers:
                msg[name] = value
            msg.set_content(notice.text)
            if notice.html:
                msg.add_alternative(notice.html, subtype="html")
                msg.set_boundary(mime_boundary(notice.message_id))
            path = self.directory / f"{notice.message_id}.eml"
            path.write_bytes(bytes(msg))
        else:
            path = self.directory / f"{notice.message_id}.sms.json"
            body = {**asdict(notice), "to": mask_recipient(notice.to)}
            path.write_text(json.dumps(body, indent=2, sort_keys=True))
        return str(path)


class SnsSmsNotifier:
    """SMS through ``sns.publish(PhoneNumber=...)`` as a transactional message."""

    def __init__(self, sns_client, sender_id: str | None = None):
        self.client = sns_client
        self.sender_id = sender_id

    def send(self, notice: Notice) -> str:
        check_notice(notice)
        attrs = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
        if self.sender_id:
            attrs["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": self.sender_id}
        resp = self.client.publish(PhoneNumber=notice.to, Message=notice.text, MessageAttributes=attrs)
        return resp["MessageId"]
