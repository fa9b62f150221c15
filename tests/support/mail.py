"""A customer's complaint as the raw MIME bytes a support inbox receives (the nlp tests' one builder)."""
from __future__ import annotations

from email.message import EmailMessage


def complaint_mail(subject: str, body: str, message_id: str = "<lt-1@example.com>") -> bytes:
    msg = EmailMessage()
    msg["From"] = "Pat Customer <pat@example.com>"
    msg["To"] = "support@bank.example"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    msg.set_content(body)
    return msg.as_bytes()
