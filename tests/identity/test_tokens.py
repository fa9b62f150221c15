"""Identity tokens: a token is a bearer credential for a customer's account data, so every way
of altering or replaying one outside its validity must be refused."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from chalicelib.identity import (
    ISSUER,
    IdentityConfigError,
    InvalidToken,
    StaticKeyProvider,
    TokenSigner,
)

from .conftest import KEY, FakeClock


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict, payload: dict, key: bytes | None = KEY.encode()) -> str:
    """Build a token by hand, as an attacker (or a buggy channel) would."""
    signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(payload).encode())
    sig = b"" if key is None else hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64(sig)


def payload(clock: FakeClock, **over) -> dict:
    now = int(clock.epoch())
    p = {"sub": "demo-alice", "iat": now, "exp": now + 600, "iss": ISSUER, "aud": "web", "jti": "j1"}
    p.update(over)
    return p


def test_round_trip_carries_all_claims(signer, clock):
    """Given a signer, When a token is minted and verified, Then the claims come back intact."""
    token = signer.mint("demo-alice", ttl_s=600, channel="mobile")
    claims = signer.verify(token)
    assert claims.sub == claims.customer_id == "demo-alice"
    assert claims.iss == "dispute-assistant"
    assert claims.aud == "mobile"
    assert claims.exp - claims.iat == 600
    assert claims.iat == int(clock.epoch())
    assert len(claims.jti) >= 16
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header == {"alg": "HS256", "typ": "JWT"}


def test_each_token_has_its_own_jti(signer):
    """Given two mints for one customer, Then their ids differ, so a channel can deduplicate or
    revoke one token without the other."""
    assert signer.verify(signer.mint("demo-alice")).jti != signer.verify(signer.mint("demo-alice")).jti


def test_default_ttl_comes_from_the_signer(clock):
    """Given a signer built with a default TTL, When minting without ttl_s, Then it is used."""
    s = TokenSigner(StaticKeyProvider(KEY), default_ttl_s=120, clock=clock.epoch)
    c = s.verify(s.mint("demo-bob"))
    assert c.exp - c.iat == 120


def test_tampered_payload_is_refused(signer):
    """Given a valid token for Alice, When the payload is swapped for one naming Bob, Then the
    signature no longer matches and the token is refused."""
    h, p, s = signer.mint("demo-alice").split(".")
    claims = json.loads(base64.urlsafe_b64decode(p + "=="))
    claims["sub"] = "demo-bob"
    with pytest.raises(InvalidToken) as e:
        signer.verify(".".join([h, b64(json.dumps(claims).encode()), s]))
    assert e.value.reason == "bad_signature"


def test_tampered_signature_is_refused(signer):
    """Given a valid token, When one byte of the signature changes, Then it is refused."""
    h, p, s = signer.mint("demo-alice").split(".")
    raw = bytearray(base64.urlsafe_b64decode(s + "="))
    raw[0] ^= 0x01
    with pytest.raises(InvalidToken) as e:
        signer.verify(".".join([h, p, b64(bytes(raw))]))
    assert e.value.reason == "bad_signature"


def test_token_from_another_key_is_refused(signer, clock):
    """Given a token signed with a different key, Then it does not verify here."""
    other = TokenSigner(StaticKeyProvider("z" * 32), clock=clock.epoch)
    with pytest.raises(InvalidToken) as e:
        signer.verify(other.mint("demo-alice"))
    assert e.value.reason == "bad_signature"


def test_expired_token_is_refused(signer, clock):
    """Given a 60-second token, When 60 s plus the clock-skew leeway pass, Then it is expired;
    just before that it still verifies."""
    token = signer.mint("demo-alice", ttl_s=60)
    clock.advance(60 + 29)
    assert signer.verify(token).sub == "demo-alice"
    clock.advance(1)
    with pytest.raises(InvalidToken) as e:
        signer.verify(token)
    assert e.value.reason == "expired"


def test_token_from_the_future_is_refused(signer, clock):
    """Given a token whose iat is well after now (a skewed or forged minting clock), Then it is
    not yet valid."""
    p = payload(clock, iat=int(clock.epoch()) + 3600, exp=int(clock.epoch()) + 7200)
    with pytest.raises(InvalidToken) as e:
        signer.verify(forge({"alg": "HS256", "typ": "JWT"}, p))
    assert e.value.reason == "not_yet_valid"


def test_nbf_in_the_future_is_refused(signer, clock):
    """Given a correctly signed token with nbf an hour ahead, Then it is not yet valid."""
    p = payload(clock, nbf=int(clock.epoch()) + 3600)
    with pytest.raises(InvalidToken) as e:
        signer.verify(forge({"alg": "HS256"}, p))
    assert e.value.reason == "not_yet_valid"


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "HS512", "RS256", "", None])
def test_other_algorithms_are_refused(signer, clock, alg):
    """Given a token whose header names another algorithm (incl. the unsigned "none"), Then it
    is refused before any signature is considered."""
    header = {"typ": "JWT"} if alg is None else {"alg": alg, "typ": "JWT"}
    for key in (None, KEY.encode()):
        with pytest.raises(InvalidToken) as e:
            signer.verify(forge(header, payload(clock), key=key))
        assert e.value.reason == "unsupported_alg"


def test_unsigned_token_with_empty_signature_is_refused(signer, clock):
    """Given the classic attack "alg: none" with an empty third segment, Then it is refused."""
    token = b64(b'{"alg":"none"}') + "." + b64(json.dumps(payload(clock)).encode()) + "."
    with pytest.raises(InvalidToken):
        signer.verify(token)


def test_wrong_issuer_is_refused(signer, clock):
    """Given a correctly signed token from another issuer sharing the key, Then it is refused."""
    with pytest.raises(InvalidToken) as e:
        signer.verify(forge({"alg": "HS256"}, payload(clock, iss="someone-else")))
    assert e.value.reason == "wrong_issuer"


def test_audience_restriction(clock):
    """Given a signer that accepts only the mobile channel, Then a web token is refused."""
    s = TokenSigner(StaticKeyProvider(KEY), audiences={"mobile"}, clock=clock.epoch)
    assert s.verify(s.mint("demo-alice", channel="mobile")).aud == "mobile"
    with pytest.raises(InvalidToken) as e:
        s.verify(s.mint("demo-alice", channel="web"))
    assert e.value.reason == "wrong_audience"


@pytest.mark.parametrize("missing", ["sub", "iat", "exp", "iss", "aud", "jti"])
def test_missing_claims_are_refused(signer, clock, missing):
    """Given a correctly signed token missing a required claim, Then it is malformed."""
    p = payload(clock)
    del p[missing]
    with pytest.raises(InvalidToken) as e:
        signer.verify(forge({"alg": "HS256"}, p))
    assert e.value.reason == "malformed"


@pytest.mark.parametrize(
    "token",
    ["", "abc", "a.b", "a.b.c.d", "!!!.###.$$$", "eyJ.eyJ.x", "a" * 5000, "é.é.é"],
)
def test_garbage_is_malformed(signer, token):
    """Given strings that are not tokens at all, Then they are refused as malformed."""
    with pytest.raises(InvalidToken) as e:
        signer.verify(token)
    assert e.value.reason == "malformed"


def test_non_string_token_is_malformed(signer):
    """Given a non-string attribute value (a client can send any JSON), Then it is refused."""
    with pytest.raises(InvalidToken):
        signer.verify(12345)  # type: ignore[arg-type]


def test_padded_or_non_canonical_signature_is_refused(signer):
    """Given a valid token re-spelled with padding, Then it is refused: one token, one spelling."""
    token = signer.mint("demo-alice")
    with pytest.raises(InvalidToken):
        signer.verify(token + "=")


def test_short_key_is_rejected():
    """Given a key shorter than the hash output, Then configuration fails loudly (RFC 7518)."""
    with pytest.raises(IdentityConfigError):
        StaticKeyProvider("short-key")


def test_previous_static_key_still_verifies(clock):
    """Given a key rotated by redeploy, Then tokens signed with the previous key still verify and
    new ones are signed with the new key."""
    old = TokenSigner(StaticKeyProvider("o" * 32), clock=clock.epoch)
    new = TokenSigner(StaticKeyProvider("n" * 32, previous="o" * 32), clock=clock.epoch)
    assert new.verify(old.mint("demo-alice")).sub == "demo-alice"
    with pytest.raises(InvalidToken):
        old.verify(new.mint("demo-alice"))


def test_mint_rejects_empty_customer_and_bad_ttl(signer):
    """Given nonsense input, Then mint refuses rather than issuing a token for nobody."""
    with pytest.raises(ValueError):
        signer.mint("")
    with pytest.raises(ValueError):
        signer.mint("demo-alice", ttl_s=0)


@hsettings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_random_text_never_verifies(text):
    """Given any text, When verified, Then it is refused with InvalidToken (never accepted,
    never another exception)."""
    signer = TokenSigner(StaticKeyProvider(KEY))
    with pytest.raises(InvalidToken):
        signer.verify(text)


segment = st.binary(max_size=64).map(b64)


@hsettings(max_examples=300, deadline=None)
@given(segment, segment, segment)
def test_random_well_shaped_tokens_never_verify(h, p, s):
    """Given three random base64url segments (token-shaped noise), Then none verifies."""
    signer = TokenSigner(StaticKeyProvider(KEY))
    with pytest.raises(InvalidToken):
        signer.verify(f"{h}.{p}.{s}")


@hsettings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["sub", "iat", "exp", "iss", "aud", "jti", "nbf"]),
                       st.one_of(st.integers(), st.text(max_size=10), st.none(), st.booleans())))
def test_random_claims_with_a_wrong_key_never_verify(claims):
    """Given arbitrary claims signed with a key the verifier does not hold, Then never valid."""
    signer = TokenSigner(StaticKeyProvider(KEY))
    with pytest.raises(InvalidToken):
        signer.verify(forge({"alg": "HS256"}, claims, key=b"x" * 32))
