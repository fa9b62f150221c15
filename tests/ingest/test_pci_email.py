"""Card numbers in every part of an email (issue 8): subject, body, HTML, base64 and quoted-printable
parts, attachment names and headers, through the real ingest path; then every stored record,
decision and log line is scanned. A fixed sample in `make test`, every grouping in `make fuzz`."""
from __future__ import annotations

import base64
import logging
import os

from chalicelib.core import pci
from tests.ingest.test_email_ingest import put_and_record
from tests.security.cards import PANS, groupings, sample_groupings

FULL = os.environ.get("HYPOTHESIS_PROFILE") == "fuzz"


def _leaks(texts) -> list[str]:
    return [t for t in texts if pci.find_sensitive(t)]


def _email_with_cards(pan_text: str, idx: int) -> bytes:
    html = f"<html><body><p>Card <b>{pan_text}</b> charged</p></body></html>"
    b64 = base64.b64encode(f"my card {pan_text} was used".encode()).decode()
    qp_text = pan_text.replace(" ", "=20")
    return (
        f"Message-ID: <{pan_text.replace(' ', '')}.{idx}@mail.example.com>\r\n"
        f"From: Alice <alice@example.com>\r\nTo: disputes@bank.example\r\n"
        f"Subject: card {pan_text} charged\r\nX-Card: {pan_text}\r\nIn-Reply-To: <{pan_text}@x>\r\n"
        "Date: Sat, 31 Oct 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="B"\r\n\r\n'
        f"--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello, card {pan_text} was charged; cvv 123, "
        "ssn 123-45-6789.\r\n"
        f"--B\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n"
        f"--B\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{b64}\r\n"
        f"--B\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        f"card {qp_text} again\r\n"
        f'--B\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="{pan_text}.pdf"'
        "\r\n\r\nJVBERi0=\r\n--B--\r\n").encode("utf-8")


def test_card_numbers_in_every_part_of_an_email_are_never_stored_decided_or_logged(sqlite_world, caplog):
    """Given emails with a card number in the subject, body, HTML part, base64 and quoted-printable
    parts, an attachment name and headers (Message-ID, In-Reply-To, X-), in many groupings, When
    ingested, Then no stored triage record, decision or log line carries a card number, CVV or SSN."""
    sample = [w for pan in PANS.values() for w in groupings(pan).values()] if FULL else \
        [w for _, name, w in sample_groupings() if "\n" not in w and "\r" not in w][:12]
    leaks: list[str] = []
    with caplog.at_level(logging.DEBUG):
        for i, written in enumerate(sample):
            raw = _email_with_cards(written, i)
            out = sqlite_world.service.handle_sqs_record(put_and_record(sqlite_world, f"inbound/pan-{i}", raw,
                                                                        message_id=f"sqs-{i}")).objects[0]
            stored = sqlite_world.store.triage.get(out.record_id)
            leaks += _leaks([stored.model_dump_json()])
    leaks += _leaks(d.model_dump_json() for d in sqlite_world.decisions())
    leaks += _leaks(r.getMessage() for r in caplog.records if r.name.startswith(("chalicelib", "nlp", "app")))
    assert not leaks, leaks[:3]
