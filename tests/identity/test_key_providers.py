"""Where signing keys come from: Secrets Manager in AWS (cached, rotation-aware), an explicit key,
or a random per-machine development key - never a constant in the code."""
from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from chalicelib.identity import (
    DevKeyProvider,
    IdentityConfigError,
    InvalidToken,
    KeyUnavailable,
    SecretsManagerKeyProvider,
    StaticKeyProvider,
    TokenSigner,
    key_provider_from_settings,
)

OLD = "old-key-" + "o" * 32
NEW = "new-key-" + "n" * 32


class Ticker:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def sm():
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        client.create_secret(Name="da/identity-key", SecretString=OLD)
        yield client


def test_secrets_manager_round_trip(sm):
    """Given a key in Secrets Manager, Then tokens minted with it verify."""
    signer = TokenSigner(SecretsManagerKeyProvider(sm, "da/identity-key"))
    assert signer.verify(signer.mint("demo-alice")).sub == "demo-alice"


def test_rotation_keeps_old_tokens_valid(sm):
    """Given a token minted before rotation, When the secret is rotated (old key becomes
    AWSPREVIOUS) and the cache refreshes, Then the old token still verifies, new tokens use the
    new key, and a token from a key two rotations back is refused."""
    tick = Ticker()
    provider = SecretsManagerKeyProvider(sm, "da/identity-key", ttl_s=300, monotonic=tick)
    signer = TokenSigner(provider)
    old_token = signer.mint("demo-alice")

    sm.put_secret_value(SecretId="da/identity-key", SecretString=NEW)
    tick.t += 301
    assert provider.signing_key() == NEW.encode()
    assert provider.verification_keys() == [NEW.encode(), OLD.encode()]
    assert signer.verify(old_token).sub == "demo-alice"
    new_token = signer.mint("demo-bob")
    assert TokenSigner(StaticKeyProvider(NEW)).verify(new_token).sub == "demo-bob"

    sm.put_secret_value(SecretId="da/identity-key", SecretString="third-key-" + "t" * 32)
    tick.t += 301
    with pytest.raises(InvalidToken) as e:
        signer.verify(old_token)
    assert e.value.reason == "bad_signature"


def test_value_is_cached_within_ttl(sm):
    """Given a cached key, When the secret changes within ttl_s, Then the cached key is still
    used: no Secrets Manager call per chat turn."""
    tick = Ticker()
    provider = SecretsManagerKeyProvider(sm, "da/identity-key", ttl_s=300, monotonic=tick)
    assert provider.signing_key() == OLD.encode()
    sm.put_secret_value(SecretId="da/identity-key", SecretString=NEW)
    tick.t += 100
    assert provider.signing_key() == OLD.encode()


def test_token_from_a_newer_key_triggers_one_refresh(sm):
    """Given this container cached the old key and another container already mints with the new
    one, When such a token arrives, Then the key is refetched and the token verifies; a second
    miss within the refresh interval does not call Secrets Manager again."""
    tick = Ticker()
    provider = SecretsManagerKeyProvider(sm, "da/identity-key", ttl_s=300, min_refresh_interval_s=30,
                                         monotonic=tick)
    signer = TokenSigner(provider)
    provider.signing_key()
    sm.put_secret_value(SecretId="da/identity-key", SecretString=NEW)
    tick.t += 31
    fresh = TokenSigner(StaticKeyProvider(NEW)).mint("demo-alice")
    assert signer.verify(fresh).sub == "demo-alice"
    assert provider.refresh_on_miss() is False  # rate-limited


def test_json_secret_string(sm):
    """Given a secret stored as JSON {"key": ...} (the console's key/value form), Then the key
    field is used."""
    sm.create_secret(Name="da/json-key", SecretString='{"key": "%s"}' % NEW)
    assert SecretsManagerKeyProvider(sm, "da/json-key").signing_key() == NEW.encode()


def _stubbed_client():
    client = boto3.client("secretsmanager", region_name="us-east-1",
                          aws_access_key_id="x", aws_secret_access_key="x")
    return client, Stubber(client)


def test_client_error_without_cache_fails_closed():
    """Given Secrets Manager denies access and nothing is cached, Then minting raises and
    verification refuses the token (unverified), never silently accepts."""
    client, stub = _stubbed_client()
    for _ in range(2):
        stub.add_client_error("get_secret_value", service_error_code="AccessDeniedException",
                              http_status_code=400)
    with stub:
        provider = SecretsManagerKeyProvider(client, "da/identity-key")
        with pytest.raises(KeyUnavailable):
            provider.signing_key()
        with pytest.raises(InvalidToken) as e:
            TokenSigner(provider).verify(TokenSigner(StaticKeyProvider(NEW)).mint("demo-alice"))
        assert e.value.reason == "key_unavailable"


def test_client_error_with_cache_keeps_last_good_key():
    """Given a key was fetched, When a later refresh hits a throttling error, Then the last good
    key keeps serving (an outage of Secrets Manager does not log out every customer)."""
    client, stub = _stubbed_client()
    tick = Ticker()
    stub.add_response("get_secret_value", {"SecretString": NEW}, {"SecretId": "k", "VersionStage": "AWSCURRENT"})
    stub.add_client_error("get_secret_value", service_error_code="ResourceNotFoundException",
                          http_status_code=400)
    stub.add_client_error("get_secret_value", service_error_code="ThrottlingException", http_status_code=400)
    with stub:
        provider = SecretsManagerKeyProvider(client, "k", ttl_s=300, monotonic=tick)
        assert provider.verification_keys() == [NEW.encode()]  # never rotated: no previous
        tick.t += 301
        assert provider.signing_key() == NEW.encode()
        stub.assert_no_pending_responses()


def test_dev_key_is_random_stable_and_private(tmp_path):
    """Given no configured key, Then the development key is created once, random per machine,
    reused across processes, and readable only by its owner."""
    path = tmp_path / ".data" / "identity-dev.key"
    k1 = DevKeyProvider(path).signing_key()
    k2 = DevKeyProvider(path).signing_key()
    other = DevKeyProvider(tmp_path / "elsewhere" / "identity-dev.key").signing_key()
    assert k1 == k2 and k1 != other and len(k1) >= 32
    assert path.stat().st_mode & 0o077 == 0


def test_from_settings_prefers_explicit_key(settings):
    """Given DA_IDENTITY_KEY, Then it is used as is."""
    s = settings.model_copy(update={"identity_key": __import__("pydantic").SecretStr(NEW)})
    assert key_provider_from_settings(s).signing_key() == NEW.encode()


def test_from_settings_uses_secrets_manager(settings, sm):
    """Given a secret id, Then the injected client factory is used (no client at import time)."""
    s = settings.model_copy(update={"identity_key_secret_id": "da/identity-key"})
    calls = []
    provider = key_provider_from_settings(s, lambda: calls.append(1) or sm)
    assert isinstance(provider, SecretsManagerKeyProvider) and calls == [1]
    assert provider.signing_key() == OLD.encode()


def test_from_settings_local_dev_key_lives_beside_the_db(settings):
    """Given the SQLite backend and no key, Then a dev key file is created in the data dir."""
    provider = key_provider_from_settings(settings)
    assert isinstance(provider, DevKeyProvider)
    assert provider.path.parent == settings.sqlite_path.parent
    signer = TokenSigner.from_settings(settings)
    assert signer.verify(signer.mint("demo-alice")).sub == "demo-alice"


def test_from_settings_refuses_dev_key_in_aws(settings):
    """Given the DynamoDB (AWS) backend and no key source, Then startup fails loudly instead of
    inventing a key."""
    with pytest.raises(IdentityConfigError):
        key_provider_from_settings(settings.model_copy(update={"backend": "dynamodb"}))
