"""Every wiring of identity tokens checks signature, expiry, audience and lifetime: a token minted
for another service with the same key, or one signed to live until the year 33658, is refused."""
from __future__ import annotations

import pytest

from chalicelib.core.settings import Settings
from chalicelib.identity import IdentityConfigError, IdentityResolver, InvalidToken, StaticKeyProvider, TokenSigner

from .conftest import KEY
from .test_tokens import forge, payload

YEAR_33658 = 999_999_999_999  # the exp the adversarial run got accepted


def _settings(tmp_path, **over) -> Settings:
    return Settings(sqlite_path=tmp_path / "a.db", identity_key=KEY, **over)


@pytest.fixture
def wired(tmp_path, clock) -> TokenSigner:
    return TokenSigner.from_settings(_settings(tmp_path), clock=clock.epoch)


def test_production_wiring_refuses_another_services_audience(wired, clock):
    """Given the signer built from settings, When a correctly signed token for another service
    arrives, Then it is refused as wrong_audience; a web token passes."""
    with pytest.raises(InvalidToken) as e:
        wired.verify(forge({"alg": "HS256"}, payload(clock, aud="payments-api")))
    assert e.value.reason == "wrong_audience"
    assert wired.verify(forge({"alg": "HS256"}, payload(clock, aud="web"))).sub == "demo-alice"


def test_production_wiring_refuses_a_far_future_expiry(wired, clock):
    """Given the signer built from settings, When a correctly signed token expires in the year 33658,
    Then it is refused as lifetime_too_long."""
    with pytest.raises(InvalidToken) as e:
        wired.verify(forge({"alg": "HS256"}, payload(clock, exp=YEAR_33658)))
    assert e.value.reason == "lifetime_too_long"


def test_lifetime_is_measured_from_iat_so_backdating_does_not_help(wired, clock):
    """Given a token whose iat is backdated a day so its exp looks near, Then exp - iat is over the
    maximum and it is refused; a token at exactly the maximum passes."""
    now = int(clock.epoch())
    with pytest.raises(InvalidToken) as e:
        wired.verify(forge({"alg": "HS256"}, payload(clock, iat=now - 86_400, exp=now + 60)))
    assert e.value.reason == "lifetime_too_long"
    assert wired.verify(forge({"alg": "HS256"}, payload(clock, iat=now, exp=now + 3600))).exp == now + 3600


def test_production_wiring_checks_signature_and_expiry(wired, clock):
    """Given the signer built from settings, Then a token signed with another key and an expired
    token are refused with their own reasons."""
    with pytest.raises(InvalidToken) as e:
        wired.verify(forge({"alg": "HS256"}, payload(clock), key=b"another-key-" + b"x" * 40))
    assert e.value.reason == "bad_signature"
    now = int(clock.epoch())
    with pytest.raises(InvalidToken) as e:
        wired.verify(forge({"alg": "HS256"}, payload(clock, iat=now - 1000, exp=now - 100)))
    assert e.value.reason == "expired"


def test_settings_choose_audiences_and_lifetime(tmp_path, clock):
    """Given settings that accept only mobile and a 10-minute maximum, Then a web token and a
    20-minute token are refused, and minting longer than the maximum is an error."""
    s = TokenSigner.from_settings(_settings(tmp_path, identity_token_audiences="mobile",
                                            identity_token_max_lifetime_s=600, identity_token_ttl_s=300),
                                  clock=clock.epoch)
    assert s.verify(s.mint("demo-alice", channel="mobile")).aud == "mobile"
    with pytest.raises(InvalidToken):
        s.verify(s.mint("demo-alice", channel="web"))
    now = int(clock.epoch())
    with pytest.raises(InvalidToken) as e:
        s.verify(forge({"alg": "HS256"}, payload(clock, aud="mobile", exp=now + 1200)))
    assert e.value.reason == "lifetime_too_long"
    with pytest.raises(ValueError):
        s.mint("demo-alice", ttl_s=601, channel="mobile")


def test_empty_audience_list_is_a_configuration_error(tmp_path):
    """Given settings with no audience, Then building the signer fails loudly instead of accepting any."""
    with pytest.raises(IdentityConfigError):
        TokenSigner.from_settings(_settings(tmp_path, identity_token_audiences=" , "))


def test_resolver_refuses_a_signer_without_audiences(step_up):
    """Given a signer that would accept any audience, Then no identity resolver can be wired with it."""
    with pytest.raises(IdentityConfigError):
        IdentityResolver(TokenSigner(StaticKeyProvider(KEY)), step_up)


def test_composition_root_enforces_audience_and_lifetime(tmp_path, clock):
    """Given the container's resolver (chatbot/bootstrap.py), When tokens for another service or with
    a year-33658 expiry are presented, Then the caller is not identified; a web token is."""
    from chatbot.bootstrap import build_services

    settings = _settings(tmp_path)
    from chalicelib.storage.sqlite import SqliteStore

    store = SqliteStore(settings.sqlite_path)
    store.create_schema()
    _, resolver = build_services(settings, store=store, clock=clock)
    import time

    fresh = {"iat": int(time.time()), "exp": int(time.time()) + 600}
    other = forge({"alg": "HS256"}, {**payload(clock, aud="payments-api"), **fresh})
    forever = forge({"alg": "HS256"}, {**payload(clock), "iat": fresh["iat"], "exp": YEAR_33658})
    good = forge({"alg": "HS256"}, {**payload(clock), **fresh})
    assert resolver.resolve({"x-da-identity": other}, {}, "s1").token_error == "wrong_audience"
    assert resolver.resolve({"x-da-identity": forever}, {}, "s1").token_error == "lifetime_too_long"
    assert resolver.resolve({"x-da-identity": good}, {}, "s1").customer_id == "demo-alice"
