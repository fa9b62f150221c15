"""The decision log's head (sequence number and hash) kept OUTSIDE the store that holds the chain.

Why: the hash chain proves that no stored record was edited relative to its successors, but an
attacker with write access to the table can cut the tail, or rewrite the last records and re-chain
them, and the shortened or rewritten chain still verifies on its own. An anchor written after every
append, to a place the table's writers cannot rewrite, pins the head: ``audit verify`` compares the
chain against it by default.

Implementations: ``FileHeadAnchor`` (local runs: a small text file next to the SQLite store,
replaced atomically) and ``SsmHeadAnchor`` (AWS: an SSM parameter; its version history is kept by
SSM and its write permission is granted to the appending functions only, not to table admins).

Anchors only move forward: a writer that lost a race to a later append never moves the anchor
back, so concurrent appenders cannot leave it behind the chain.
"""
from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import Protocol

_HEAD = re.compile(r"^(\d+) ([0-9a-f]{64})$")


class AnchorError(Exception):
    """The anchor could not be read or holds something that is not a head (code ``anchor_unreadable``)."""

    code = "anchor_unreadable"


def parse_head(text: str) -> tuple[int, str]:
    m = _HEAD.match(text.strip())
    if not m:
        raise AnchorError(f"anchor_unreadable: anchored head is not '<seq> <sha256>': {text.strip()[:80]!r}")
    return int(m.group(1)), m.group(2)


class HeadAnchor(Protocol):
    def read(self) -> tuple[int, str] | None:
        """The anchored (seq, hash); None when nothing was ever anchored."""
        ...

    def advance(self, seq: int, hash: str) -> None:
        """Anchor (seq, hash) unless a later seq is already anchored."""
        ...

    def describe(self) -> str: ...


class FileHeadAnchor:
    """A file holding ``"<seq> <hash>"``; written to a temporary file then renamed (atomic on POSIX)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._lock = threading.Lock()

    def describe(self) -> str:
        return f"file {self.path}"

    def read(self) -> tuple[int, str] | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise AnchorError(f"anchor_unreadable: {self.path}: {exc}") from exc
        return parse_head(text)

    def advance(self, seq: int, hash: str) -> None:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        with self._lock, open(lock_path, "a+") as lock:  # threads here, processes via flock
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                current = self.read()
                if current is not None and current[0] >= seq:
                    return
                tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
                with open(tmp, "w", encoding="utf-8") as fp:
                    fp.write(f"{seq} {hash}\n")
                    fp.flush()
                    os.fsync(fp.fileno())
                os.replace(tmp, self.path)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


class SsmHeadAnchor:
    """An SSM String parameter holding ``"<seq> <hash>"``.

    SSM has no conditional put, so a write is read-compare-put: between the read and the put a
    racing later append can be overwritten by an earlier one, leaving the anchor one append behind
    until the next append moves it on; verify then reports the unanchored tail, it never passes
    a rewritten one.
    """

    def __init__(self, client, name: str):
        self.client = client
        self.name = name

    def describe(self) -> str:
        return f"SSM parameter {self.name}"

    def read(self) -> tuple[int, str] | None:
        try:
            value = self.client.get_parameter(Name=self.name)["Parameter"]["Value"]
        except self.client.exceptions.ParameterNotFound:
            return None
        return parse_head(value)

    def advance(self, seq: int, hash: str) -> None:
        current = self.read()
        if current is not None and current[0] >= seq:
            return
        self.client.put_parameter(Name=self.name, Value=f"{seq} {hash}", Type="String", Overwrite=True)


def anchor_file_for(sqlite_path: str | os.PathLike) -> Path:
    """The local anchor sits next to the store it anchors (``.data/assistant.decision-log.head``)."""
    p = Path(sqlite_path)
    return p.with_name(f"{p.stem}.decision-log.head")


def build_head_anchor(settings, *, ssm_client=None) -> HeadAnchor:
    """The anchor for the configured backend: an SSM parameter in AWS, a file locally."""
    if settings.backend == "dynamodb":
        if ssm_client is None:
            from chalicelib.core.aws import client as aws_client

            ssm_client = aws_client("ssm", settings)
        return SsmHeadAnchor(ssm_client, settings.decision_head_parameter)
    return FileHeadAnchor(anchor_file_for(settings.sqlite_path))
