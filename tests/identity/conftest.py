"""Shared fixtures for identity tests: a controllable clock, a recording OTP sender, a seeded
in-memory store. Settings are built explicitly so a developer's DA_* environment cannot change
what the tests check."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from chalicelib.identity import StaticKeyProvider, StepUpService, TokenSigner
from chalicelib.core.models import Card, Customer
from chalicelib.core.settings import Settings
from tests.fakes import InMemoryStore

KEY = "k" * 32
ALICE_DOB = date(1985, 4, 12)
BOB_DOB = date(1990, 11, 3)
CAROL_DOB = date(1972, 1, 30)


class FakeClock:
    """Time that moves only when a test says so (expiry and lockout without sleeping)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def epoch(self) -> float:
        return self.now.timestamp()


class RecordingSender:
    """Captures codes the way a phone would receive them."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, customer: Customer, code: str) -> None:
        self.sent.append((customer.customer_id, code))

    @property
    def last_code(self) -> str:
        return self.sent[-1][1]


def seed(store) -> None:
    store.customers.put(
        Customer(customer_id="demo-alice", name="Alice Example", email="alice@example.com",
                 phone="+1 555-555-0100", date_of_birth=ALICE_DOB)
    )
    store.customers.put(
        Customer(customer_id="demo-bob", name="Bob Example", email="bob@example.com",
                 phone="+1 555-555-0177", date_of_birth=BOB_DOB)
    )
    store.customers.put(
        Customer(customer_id="demo-carol", name="Carol Example", email="carol@example.com",
                 phone="+1 555-555-0123", date_of_birth=CAROL_DOB)
    )
    store.cards.put(Card(card_id="card-a1", customer_id="demo-alice", last4="4242"))
    store.cards.put(Card(card_id="card-b1", customer_id="demo-bob", last4="1881"))
    # Carol shares Alice's last 4: the DOB is what tells them apart.
    store.cards.put(Card(card_id="card-c1", customer_id="demo-carol", last4="4242"))


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(
        sqlite_path=tmp_path / "assistant.db",
        otp_outbox_path=tmp_path / "otp-outbox.log",
        identity_key=None,
        identity_key_secret_id=None,
        identity_token_ttl_s=900,
        otp_ttl_s=300,
        max_verification_failures=3,
        lockout_s=1800,
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sender() -> RecordingSender:
    return RecordingSender()


@pytest.fixture
def store() -> InMemoryStore:
    s = InMemoryStore()
    seed(s)
    return s


@pytest.fixture
def step_up(store, settings, sender, clock) -> StepUpService:
    return StepUpService(store, settings, sender, clock=clock)


@pytest.fixture
def signer(clock) -> TokenSigner:
    return TokenSigner(StaticKeyProvider(KEY), clock=clock.epoch, audiences=("web", "mobile"))
