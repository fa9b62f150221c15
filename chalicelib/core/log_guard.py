"""Log lines never carry a card number, CVV, SSN or IBAN, whichever module writes them.

Why a record factory and not only a filter on a few loggers: a ``logging.Filter`` on a logger sees
only records logged on that very logger, not its children, and modules create loggers lazily. The
filter here scrubs the message, its arguments and every ``extra`` field; ``install`` hooks it
into record creation for the project's loggers, so no module can forget it.
"""
from __future__ import annotations

import logging

from chalicelib.core.pci import guard_text, guard_value

PROJECT_LOGGERS = ("chalicelib", "chatbot", "intents", "nlp", "dispute_assistant", "app")
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class PiiLogFilter(logging.Filter):
    """Scrubs msg, args and extra fields of a record in place; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = guard_text(record.msg)
        if isinstance(record.args, (tuple, dict)):
            record.args = guard_value(record.args)
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD:
                setattr(record, key, guard_value(value) if isinstance(value, (str, dict, list, tuple)) else value)
        return True


_installed = False


def install() -> None:
    """Scrub every record our loggers create (idempotent; other libraries' records are untouched)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()
    guard = PiiLogFilter()

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        if record.name.split(".")[0] in PROJECT_LOGGERS:
            guard.filter(record)
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
