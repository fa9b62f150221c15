"""Where raw messages come from on disk: one .eml file, a directory of them, or an mbox file
(the CLI, the benches and the evaluation read the sample mail through this).
"""
from __future__ import annotations

import mailbox
import re
from pathlib import Path
from typing import Iterator

from chalicelib.ingest.mailfiles import looks_like_mail

__all__ = ["iter_messages", "looks_like_mail"]

_MBOX_FROM_RE = re.compile(rb"^From \S+\s+\w{3} \w{3}\s+\d{1,2} \d{1,2}:\d{2}(?::\d{2})? (?:\S+ )?\d{4}", re.M)


def iter_messages(path: str | Path) -> Iterator[tuple[str, bytes]]:
    """(source name, raw bytes) for a message file, a directory of them, or an mbox file.

    Directories are walked recursively in name order; files that do not start like a mail message
    (a README, a manifest) are skipped. A file holding several "From " separated messages is read
    as an mbox and each message is named ``file#index``.
    """
    p = Path(path)
    if p.is_dir():
        for child in sorted(p.rglob("*")):
            if child.is_file() and not child.name.startswith("."):
                with child.open("rb") as fh:
                    head = fh.read(4096)
                if looks_like_mail(head):
                    yield from iter_messages(child)
        return
    raw = p.read_bytes()
    if len(_MBOX_FROM_RE.findall(raw)) > 1:
        box = mailbox.mbox(str(p), create=False)
        try:
            for i, key in enumerate(box.iterkeys()):
                yield f"{p.name}#{i}", box.get_bytes(key)
        finally:
            box.close()
        return
    yield p.name, raw
