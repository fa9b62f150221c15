"""Which files on disk are mail messages: the one test, shared by the ingest CLI and nlp's readers
(a README or a manifest beside the sample mail is not a message).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

__all__ = ["looks_like_mail", "mail_files"]

_HEADER_START_RE = re.compile(rb"^(?:From |[\x21-\x39\x3b-\x7e]+:)")


def looks_like_mail(head: bytes) -> bool:
    """True when the first bytes start like a mail message (an mbox "From " line or a header)."""
    return bool(_HEADER_START_RE.match(head.lstrip(b"\r\n\t ")))


def mail_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files that start like a mail message, from files and directories (READMEs are skipped)."""
    out: list[Path] = []
    for p in map(Path, paths):
        candidates = sorted(c for c in p.rglob("*") if c.is_file()) if p.is_dir() else [p]
        for c in candidates:
            if c.name.startswith("."):
                continue
            with c.open("rb") as fh:
                if looks_like_mail(fh.read(4096)):
                    out.append(c)
    return out
