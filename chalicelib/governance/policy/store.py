"""The policy store: the active policy (reloadable without a deploy) plus every version on disk.

Why every version: replay needs exactly the version a decision was made under, so versions are
only ever added to the directory, never edited in place (an edited version is refused).
"""
from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from pydantic import BaseModel

from chalicelib.governance.policy.document import PolicyError, UnknownPolicyVersion
from chalicelib.governance.policy.evaluator import POLICY_FILENAME_RE, Policy

log = logging.getLogger(__name__)

POLICY_DIR = Path(__file__).resolve().parent.parent / "policies"


class PolicySettings(BaseModel):
    """Where policies live. ``DA_POLICY_PATH`` pins the active file; ``DA_POLICY_DIR`` holds all versions."""

    path: Path | None = None
    directory: Path = POLICY_DIR

    @classmethod
    def from_env(cls) -> "PolicySettings":
        path = os.environ.get("DA_POLICY_PATH") or None
        directory = os.environ.get("DA_POLICY_DIR") or None
        return cls(path=Path(path) if path else None, directory=Path(directory) if directory else POLICY_DIR)


class PolicyStore:
    """The active policy (reloadable without a deploy) and any past version by name.

    Without a pinned path the active policy is the newest file in the directory by
    ``effective_from`` (then version). A failed reload keeps the last good policy active and
    raises, so the operator sees why the new file was refused.
    """

    def __init__(self, path: str | os.PathLike | None = None, directory: str | os.PathLike | None = None):
        self.path = Path(path) if path else None
        self.directory = Path(directory) if directory else POLICY_DIR
        self._current: Policy | None = None
        self._by_version: dict[str, Policy] = {}
        self._lock = threading.Lock()
        self.last_error: PolicyError | None = None

    @classmethod
    def from_env(cls) -> "PolicyStore":
        s = PolicySettings.from_env()
        return cls(path=s.path, directory=s.directory)

    def _dirs(self) -> list[Path]:
        dirs = [self.directory]
        if self.path is not None and self.path.parent not in dirs:
            dirs.append(self.path.parent)
        return dirs

    def _candidates(self) -> list[Path]:
        files: list[Path] = []
        for d in self._dirs():
            if d.is_dir():
                files.extend(sorted(p for p in d.iterdir() if p.suffix in (".yaml", ".yml")))
        return files

    def _load_newest(self) -> Policy:
        valid: list[Policy] = []
        errors: list[str] = []
        for p in self._candidates():
            try:
                valid.append(Policy.load(p))
            except PolicyError as exc:
                errors.append(str(exc))
                log.warning("skipping invalid policy file: %s", exc)
        if not valid:
            raise PolicyError(f"no valid policy in {[str(d) for d in self._dirs()]}: {errors or 'no files'}")
        return max(valid, key=lambda p: (p.document.effective_from, p.version))

    def reload(self) -> Policy:
        """Re-read the active policy. On error the last good policy stays active and PolicyError is raised."""
        with self._lock:
            try:
                policy = Policy.load(self.path) if self.path is not None else self._load_newest()
            except PolicyError as exc:
                self.last_error = exc
                if self._current is not None:
                    log.error("policy reload refused, keeping %s active: %s", self._current.version, exc)
                raise
            known = self._by_version.get(policy.version)
            if known is not None and known.digest != policy.digest:
                exc = PolicyError(
                    f"policy {policy.source}: version {policy.version!r} was already loaded with different "
                    "content; publish a new version instead of editing one in place"
                )
                self.last_error = exc
                raise exc
            self._by_version[policy.version] = policy
            self._current = policy
            self.last_error = None
            return policy

    def current(self) -> Policy:
        if self._current is None:
            return self.reload()
        return self._current

    def get(self, version: str) -> Policy:
        """The policy with exactly this version (for replay); raises UnknownPolicyVersion."""
        if version == "current":
            return self.current()
        hit = self._by_version.get(version)
        if hit is not None:
            return hit
        for p in self._candidates():
            m = POLICY_FILENAME_RE.match(p.name)
            if m and m.group("version") != version:
                continue
            try:
                policy = Policy.load(p)
            except PolicyError:
                continue
            if policy.version == version:
                with self._lock:
                    self._by_version.setdefault(version, policy)
                return self._by_version[version]
        raise UnknownPolicyVersion(f"policy version {version!r} not found in {[str(d) for d in self._dirs()]}")

    def put(self, policy: Policy, activate: bool = False) -> None:
        """Register an in-memory policy (tests, previews of a draft before it is published)."""
        with self._lock:
            self._by_version[policy.version] = policy
            if activate:
                self._current = policy
