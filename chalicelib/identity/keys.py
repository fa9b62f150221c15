"""Where the HS256 identity key comes from: given directly, Secrets Manager, or a per-machine dev key.

Kept apart from the token format so key rotation, caching and the refusal of insecure
configurations can be read (and audited) without the JWT details around them.
"""
from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
from pathlib import Path
from typing import Any, Callable, Protocol

from chalicelib.identity.errors import IdentityConfigError, KeyUnavailable

logger = logging.getLogger(__name__)

# RFC 7518 §3.2: an HS256 key MUST be at least as long as the hash output.
MIN_KEY_BYTES = 32


class KeyProvider(Protocol):
    def signing_key(self) -> bytes:
        """The key new tokens are signed with."""
        ...

    def verification_keys(self) -> list[bytes]:
        """Keys a token may be signed with, current first (rotation: then the previous one)."""
        ...


def _key_bytes(secret: str | bytes | Any) -> bytes:
    if hasattr(secret, "get_secret_value"):  # pydantic SecretStr / SecretBytes
        secret = secret.get_secret_value()
    raw = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    if len(raw) < MIN_KEY_BYTES:
        raise IdentityConfigError(
            f"identity key too short: HS256 needs at least {MIN_KEY_BYTES} bytes (RFC 7518 §3.2)"
        )
    return raw


class StaticKeyProvider:
    """A key given directly (settings ``DA_IDENTITY_KEY`` or tests); optional previous key so a
    rotation by redeploy does not log every customer out at once."""

    def __init__(self, secret: str | bytes | Any, previous: str | bytes | Any | None = None) -> None:
        self._current = _key_bytes(secret)
        self._previous = _key_bytes(previous) if previous is not None else None

    def signing_key(self) -> bytes:
        return self._current

    def verification_keys(self) -> list[bytes]:
        return [self._current] + ([self._previous] if self._previous else [])


class SecretsManagerKeyProvider:
    """The key from AWS Secrets Manager, cached per container.

    Why the cache: a Lambda turn must not pay a Secrets Manager round trip (and its cost) per
    message. Why AWSPREVIOUS: right after a rotation, tokens minted a moment earlier are signed
    with the old key and must keep working until they expire. Why refresh on a miss: another
    container may already be minting with a key this one has not fetched yet; the refresh is
    rate-limited so a flood of forged tokens cannot turn into a flood of API calls.
    """

    def __init__(
        self,
        client: Any,
        secret_id: str,
        ttl_s: float = 300,
        *,
        min_refresh_interval_s: float = 30,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._secret_id = secret_id
        self._ttl_s = ttl_s
        self._min_refresh_s = min_refresh_interval_s
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._current: bytes | None = None
        self._previous: bytes | None = None
        self._fetched_at: float | None = None
        self._next_refresh_at: float = 0.0

    # -- public API ------------------------------------------------------------------------
    def signing_key(self) -> bytes:
        self._ensure_fresh()
        assert self._current is not None
        return self._current

    def verification_keys(self) -> list[bytes]:
        self._ensure_fresh()
        assert self._current is not None
        return [self._current] + ([self._previous] if self._previous else [])

    def refresh_on_miss(self) -> bool:
        """Refetch after a signature miss, at most once per ``min_refresh_interval_s``.
        Returns True when the keys changed (worth retrying the verification)."""
        with self._lock:
            now = self._monotonic()
            if self._fetched_at is not None and now - self._fetched_at < self._min_refresh_s:
                return False
            before = (self._current, self._previous)
            try:
                self._fetch(now)
            except KeyUnavailable:
                return False
            return (self._current, self._previous) != before

    # -- internals -------------------------------------------------------------------------
    def _ensure_fresh(self) -> None:
        with self._lock:
            now = self._monotonic()
            if self._current is not None and now < self._next_refresh_at:
                return
            try:
                self._fetch(now)
            except KeyUnavailable:
                if self._current is None:
                    raise
                # Fail static: keep the last good key for a short while rather than locking
                # every customer out because Secrets Manager hiccupped.
                logger.warning(
                    "identity key refresh failed; using cached key",
                    extra={"secret_id": self._secret_id},
                )
                self._next_refresh_at = now + min(self._ttl_s, self._min_refresh_s)

    def _fetch(self, now: float) -> None:
        current = self._get_stage("AWSCURRENT", required=True)
        previous = self._get_stage("AWSPREVIOUS", required=False)
        assert current is not None
        self._current = current
        self._previous = previous if previous != current else None
        self._fetched_at = now
        self._next_refresh_at = now + self._ttl_s

    def _get_stage(self, stage: str, *, required: bool) -> bytes | None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            resp = self._client.get_secret_value(SecretId=self._secret_id, VersionStage=stage)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if not required and code == "ResourceNotFoundException":
                return None  # no previous version yet: the secret was never rotated
            if not required:
                logger.warning("identity previous key unavailable", extra={"error_code": code})
                return None
            raise KeyUnavailable(f"Secrets Manager {stage}: {code or 'error'}") from exc
        except BotoCoreError as exc:
            if not required:
                return None
            raise KeyUnavailable(f"Secrets Manager {stage}: {type(exc).__name__}") from exc
        return _key_bytes(self._secret_value(resp))

    @staticmethod
    def _secret_value(resp: dict) -> bytes | str:
        if resp.get("SecretBinary") is not None:
            return resp["SecretBinary"]
        text = resp.get("SecretString") or ""
        if text.lstrip().startswith("{"):
            try:
                doc = json.loads(text)
            except ValueError:
                return text
            if isinstance(doc, dict) and isinstance(doc.get("key"), str):
                return doc["key"]
        return text


class DevKeyProvider:
    """A per-machine development key, random, created once in the local data directory.

    Why not a constant in the code: a constant key is public the moment the repository is, and
    then anyone can mint a token for any customer of any deployment that forgot to configure one.
    """

    FILE_NAME = "identity-dev.key"

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)
        self._key: bytes | None = None

    @property
    def path(self) -> Path:
        return self._path

    def signing_key(self) -> bytes:
        if self._key is None:
            self._key = self._load_or_create()
        return self._key

    def verification_keys(self) -> list[bytes]:
        return [self.signing_key()]

    def _load_or_create(self) -> bytes:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # O_EXCL: two processes starting together (chalice local + emulator) agree on a key.
            fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(secrets.token_hex(32) + "\n")
        for _ in range(50):
            text = self._path.read_text(encoding="ascii").strip()
            if text:
                return _key_bytes(bytes.fromhex(text))
            time.sleep(0.01)  # the creating process has not written yet
        raise KeyUnavailable(f"development key file {self._path.name} is empty")


def key_provider_from_settings(settings: Any, secrets_client_factory: Callable[[], Any] | None = None) -> KeyProvider:
    """Pick the key source: explicit key > Secrets Manager > local development key.

    The development key is refused for the DynamoDB backend: that is the AWS deployment, and a
    key generated on a Lambda's scratch disk would differ per container anyway.
    """
    if settings.identity_key is not None:
        return StaticKeyProvider(settings.identity_key)
    if settings.identity_key_secret_id:
        if secrets_client_factory is None:

            def secrets_client_factory() -> Any:

                from chalicelib.core.aws import client as aws_client
                return aws_client("secretsmanager", settings)

        return SecretsManagerKeyProvider(secrets_client_factory(), settings.identity_key_secret_id)
    if settings.backend != "sqlite":
        raise IdentityConfigError(
            "no identity key configured: set DA_IDENTITY_KEY_SECRET_ID (or DA_IDENTITY_KEY)"
        )
    return DevKeyProvider(Path(settings.sqlite_path).parent / DevKeyProvider.FILE_NAME)
