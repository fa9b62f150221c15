"""Telling people about tickets: the team (a short redacted summary per new ticket on the queue's
SNS topic) and the customer (an email when an agent resolves their ticket, SES in AWS).

Locally both land in the outbox directory as one file each (``<ticket>.sns.json``, ``<id>.eml``):
named by what caused them, so a replayed event rewrites the same file instead of sending twice.
Every text passes the PAN guard (chalicelib.outbox refuses a card number outright) and the
optional redactor the composition root supplies.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Callable, Protocol

from jinja2 import Environment, FileSystemLoader, select_autoescape

from chalicelib.core.clock import outbound_time
from chalicelib.core.pci import scrub_pans
from chalicelib.outbox import LocalOutbox, Notice, Notifier, check_notice
from chalicelib.tickets.model import Ticket

SUMMARY_LIMIT = 200
OUTCOME_TEXT = {
    "resolved_won": "your dispute was decided in your favour; the amount is yours to keep.",
    "resolved_lost": "after review, the dispute could not be upheld.",
    "withdrawn": "the dispute has been withdrawn, as agreed with you.",
    "helped": "we have dealt with your request.",
    "no_action": "no change was needed on your account.",
}


def ticket_message(ticket: Ticket, redact: Callable[[str], str] | None = None) -> dict:
    """What the team's topic carries: enough to route and prioritise, nothing personal."""
    summary = redact(ticket.summary) if redact else ticket.summary
    return {
        "ticket_id": ticket.ticket_id, "queue": ticket.queue.value, "priority": ticket.priority.value,
        # To the minute (the one outbound form): an ISO time with microseconds is 20 digits that the
        # PAN guard can read as a card number (it did: the message was refused).
        "reason": ticket.reason, "sla_due": outbound_time(ticket.sla_due, minutes=True),
        "summary": scrub_pans(summary)[0][:SUMMARY_LIMIT],
    }


class TicketPublisher(Protocol):
    def publish(self, ticket: Ticket) -> str: ...


class LocalTopicOutbox:
    def __init__(self, directory: str | Path, redact: Callable[[str], str] | None = None):
        self.directory, self.redact = Path(directory), redact

    def publish(self, ticket: Ticket) -> str:
        body = ticket_message(ticket, self.redact)
        check_notice(Notice(ticket.ticket_id, "", "sns", "", json.dumps(body)))
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{ticket.ticket_id}.sns.json"
        path.write_text(json.dumps({"topic": ticket.queue.value, "message": body}, indent=2, sort_keys=True))
        return str(path)


class SnsTopicPublisher:
    """One topic per queue, ``<prefix>-<queue>``; the ticket id deduplicates on FIFO topics."""

    def __init__(self, sns_client, topic_arn_prefix: str, redact: Callable[[str], str] | None = None):
        self.client, self.prefix, self.redact = sns_client, topic_arn_prefix, redact

    def publish(self, ticket: Ticket) -> str:
        body = json.dumps(ticket_message(ticket, self.redact), sort_keys=True)
        check_notice(Notice(ticket.ticket_id, "", "sns", "", body))
        resp = self.client.publish(
            TopicArn=f"{self.prefix}-{ticket.queue.value}", Message=body, Subject=f"New {ticket.priority.value} ticket",
            MessageAttributes={"priority": {"DataType": "String", "StringValue": ticket.priority.value}},
        )
        return resp["MessageId"]


class SesEmailNotifier:
    """Email through ``ses.send_email`` with a plain-text and an HTML body."""

    def __init__(self, ses_client, sender: str):
        self.client, self.sender = ses_client, sender

    def send(self, notice: Notice) -> str:
        check_notice(notice)
        body = {"Text": {"Data": notice.text, "Charset": "UTF-8"}}
        if notice.html:
            body["Html"] = {"Data": notice.html, "Charset": "UTF-8"}
        resp = self.client.send_email(
            Source=self.sender, Destination={"ToAddresses": [notice.to]},
            Message={"Subject": {"Data": notice.subject, "Charset": "UTF-8"}, "Body": body},
        )
        return resp["MessageId"]


@lru_cache(maxsize=1)
def _templates() -> Environment:
    return Environment(loader=FileSystemLoader(Path(__file__).with_name("templates")),
                       autoescape=select_autoescape(["html.j2"]), keep_trailing_newline=True)


class CustomerMailer:
    """The resolution email. Its id is the ticket's, so resolving twice (a retried request) writes
    one email, and the agent's words are redacted before they reach the template."""

    def __init__(self, notifier: Notifier, redact: Callable[[str], str] | None = None):
        self.notifier, self.redact = notifier, redact

    def resolution(self, ticket: Ticket, to: str, message: str, case_state: str | None = None) -> str:
        text = self.redact(message) if self.redact else message
        values = {
            "ticket_id": ticket.ticket_id, "case_id": ticket.case_id, "case_state": case_state,
            "outcome_text": OUTCOME_TEXT.get(ticket.outcome or "", "we have finished working on it."),
            "message": scrub_pans(text)[0],
        }
        env = _templates()
        notice = Notice(
            message_id=f"resolution-{ticket.ticket_id}", customer_id=ticket.customer_ref or "", channel="email", to=to,
            subject=f"Your request {ticket.ticket_id} has been resolved",
            text=env.get_template("resolution.txt.j2").render(**values),
            html=env.get_template("resolution.html.j2").render(**values),
        )
        return self.notifier.send(notice)


def local_notifiers(outbox_dir: str | Path, redact=None) -> tuple[LocalTopicOutbox, CustomerMailer]:
    return LocalTopicOutbox(outbox_dir, redact), CustomerMailer(LocalOutbox(outbox_dir), redact)
