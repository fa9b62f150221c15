"""The demo data's shapes and shared facts: sizes, model versions, the actions each reason code
allows, the merchants the demo customers' background spending avoids, names, and the anchored clock
every date is computed from (so the same anchor always gives the same days).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from chalicelib.payments.fraud_codes import REASON_CODES
from chalicelib.core.models import Card, Customer, DisputeCase, FraudAction, FraudDecision, Transaction

DEFAULT_SEED = 7
HISTORY_DAYS = 180
OTHER_CUSTOMERS = 58
RESERVED_LAST4 = frozenset({"4242", "7781", "5454"})  # the demo customers' cards, nobody else's

FRAUD_MODEL_VERSION = "fraud-gbm-2025.06"
ACCOUNT_RULES_VERSION = "account-rules-v3"

# Which actions a decision carrying a code may take: step-up-releasable risk codes hold (or, at
# the till, decline); codes no customer can clear in chat decline; screening hits go to review.
ALLOWED_ACTIONS: dict[str, frozenset[FraudAction]] = {
    code: (
        frozenset({FraudAction.hold, FraudAction.decline})
        if rc.step_up_releasable
        else frozenset({FraudAction.review})
        if code == "SANCTIONS_SCREENING"
        else frozenset({FraudAction.decline})
    )
    for code, rc in REASON_CODES.items()
}

# Merchants the demo customers' background spending avoids, so "the amazon one", "best buy",
# "shell", "netflix", "delta", "blue bottle" and "paypal" find exactly their special transactions.
DEMO_EXCLUDED = frozenset(
    {
        "amazon_mktp", "amazon_com", "amazon_prime", "amazon_digital", "bestbuy_com", "bestbuy_store", "shell",
        "paypal_seller", "netflix", "delta", "blue_bottle", "draftkings", "fanduel", "coinbase", "western_union",
    }
)
HIGH_RISK_MCC = frozenset({"7995", "6051", "4829"})

FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth", "William",
    "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Carlos", "Karen", "Daniel", "Lisa",
    "Matthew", "Nancy", "Anthony", "Sofia", "Mark", "Priya", "Wei", "Fatima", "Kenji", "Amara", "Diego", "Olga",
    "Hassan", "Chloe", "Mateo", "Aisha", "Noah", "Mei",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Lee", "Nguyen",
    "Patel", "Kim", "Chen", "Okafor", "Haddad", "Kowalski", "Novak", "Silva", "Tanaka",
)
CASE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


@dataclass
class DemoData:
    customers: list[Customer] = field(default_factory=list)
    cards: list[Card] = field(default_factory=list)
    transactions: list[Transaction] = field(default_factory=list)
    fraud_decisions: list[FraudDecision] = field(default_factory=list)
    cases: list[DisputeCase] = field(default_factory=list)


@dataclass(frozen=True)
class SeedSummary:
    anchor: date
    seed: int
    customers: int
    cards: int
    transactions: int
    fraud_decisions: int
    cases: int
    reason_codes: tuple[str, ...]

    def as_dict(self) -> dict:
        d = asdict(self)
        d["anchor"] = self.anchor.isoformat()
        d["reason_codes"] = list(self.reason_codes)
        return d


def default_anchor() -> date:
    return datetime.now(timezone.utc).date()


class DemoClock:
    """Datetimes relative to the anchor day, always timezone-aware UTC."""

    def __init__(self, anchor: date):
        self.anchor = anchor

    def at(self, days_ago: int, hh: int = 12, mm: int = 0, ss: int = 0) -> datetime:
        return datetime.combine(self.anchor - timedelta(days=days_ago), time(hh, mm, ss), tzinfo=timezone.utc)

    def day(self, days_ago: int) -> date:
        return self.anchor - timedelta(days=days_ago)


def release_requirements(codes: list[str]) -> list[str]:
    out: list[str] = []
    for c in codes:
        r = REASON_CODES[c].release
        if r not in out:
            out.append(r)
    return out
