"""Deterministic demo data: ``python -m chalicelib.demo.demo_data --reset`` seeds the configured store.

Why deterministic and anchored: golden conversations, demos and the README say things like
"Alice's $1,249.00 Best Buy payment from yesterday is on hold". Every date is relative to an
anchor day (default: today, UTC) and every random choice comes from one seeded generator, so the
same anchor and seed always give byte-identical data, and "yesterday" is always yesterday.

Two customers are fixed (ids, names, cards, special transactions, decisions, case): ``demo-alice``
and ``demo-bob``. Everyone else (``cust-0001`` ...) is generated from the merchant directory.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from chalicelib.payments.fraud_codes import REASON_CODES
from chalicelib.payments.merchants import MERCHANTS, MERCHANTS_BY_KEY, Merchant, render_descriptor
from chalicelib.core.models import (
    Card,
    CardStatus,
    CardType,
    CaseEvent,
    CaseState,
    Customer,
    DisputeCase,
    DisputeReason,
    FraudAction,
    FraudDecision,
    Transaction,
    TxnStatus,
)
from chalicelib.storage.base import AlreadyExists

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
_DEMO_EXCLUDED = frozenset(
    {
        "amazon_mktp", "amazon_com", "amazon_prime", "amazon_digital", "bestbuy_com", "bestbuy_store", "shell",
        "paypal_seller", "netflix", "delta", "blue_bottle", "draftkings", "fanduel", "coinbase", "western_union",
    }
)
_HIGH_RISK_MCC = frozenset({"7995", "6051", "4829"})

_FIRST = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth", "William",
    "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Carlos", "Karen", "Daniel", "Lisa",
    "Matthew", "Nancy", "Anthony", "Sofia", "Mark", "Priya", "Wei", "Fatima", "Kenji", "Amara", "Diego", "Olga",
    "Hassan", "Chloe", "Mateo", "Aisha", "Noah", "Mei",
)
_LAST = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Lee", "Nguyen",
    "Patel", "Kim", "Chen", "Okafor", "Haddad", "Kowalski", "Novak", "Silva", "Tanaka",
)
_CASE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


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


class _Clock:
    """Datetimes relative to the anchor day, always timezone-aware UTC."""

    def __init__(self, anchor: date):
        self.anchor = anchor

    def at(self, days_ago: int, hh: int = 12, mm: int = 0, ss: int = 0) -> datetime:
        return datetime.combine(self.anchor - timedelta(days=days_ago), time(hh, mm, ss), tzinfo=timezone.utc)

    def day(self, days_ago: int) -> date:
        return self.anchor - timedelta(days=days_ago)


def _release_requirements(codes: list[str]) -> list[str]:
    out: list[str] = []
    for c in codes:
        r = REASON_CODES[c].release
        if r not in out:
            out.append(r)
    return out


# --- the two fixed demo customers ---------------------------------------------------------------


def _demo_customers(clock: _Clock) -> DemoData:
    d = DemoData()
    alice = Customer(
        customer_id="demo-alice",
        name="Alice Martin",
        email="alice@example.com",
        phone="+1-555-0100",
        date_of_birth=date(1988, 4, 12),
        created_at=clock.at(3 * 365, 10, 0),
    )
    bob = Customer(
        customer_id="demo-bob",
        name="Bob Okafor",
        email="bob@example.com",
        phone="+1-555-0101",
        date_of_birth=date(1975, 11, 3),
        created_at=clock.at(5 * 365, 9, 30),
    )
    d.customers += [alice, bob]
    a1 = Card(card_id="card-alice-1", customer_id="demo-alice", last4="4242", network="visa", status=CardStatus.active)
    # One card of each regulation (Reg E debit, Reg Z credit), so both dispute clocks can be shown.
    a2 = Card(
        card_id="card-alice-2", customer_id="demo-alice", last4="7781", network="mastercard", status=CardStatus.active,
        card_type=CardType.credit,
    )
    b1 = Card(card_id="card-bob-1", customer_id="demo-bob", last4="5454", network="mastercard", status=CardStatus.active)
    d.cards += [a1, a2, b1]

    def t(txn_id, card, descriptor, name, mcc, amount, status, when, channel, country="US", posted_after=None):
        posted = None
        if status is TxnStatus.posted:
            posted = when + (posted_after if posted_after is not None else timedelta(hours=6))
        return Transaction(
            txn_id=txn_id,
            customer_id=card.customer_id,
            card_id=card.card_id,
            card_last4=card.last4,
            descriptor=descriptor,
            merchant_name=name,
            mcc=mcc,
            amount_minor=amount,
            status=status,
            occurred_at=when,
            posted_at=posted,
            country=country,
            channel=channel,
        )

    hold = t("txn-alice-hold", a1, "BESTBUY.COM 00012345", "Best Buy", "5732", 124900, TxnStatus.pending,
             clock.at(1, 19, 42), "ecommerce")
    declined = t("txn-alice-declined", a1, "SHELL OIL 57442", "Shell", "5541", 6410, TxnStatus.declined,
                 clock.at(2, 16, 5), "card_present", country="MX")
    unrec = t("txn-alice-unrec", a1, "PAYPAL *XINGHUA88", "Xinghua88 (via PayPal)", "5999", 21450, TxnStatus.posted,
              clock.at(3, 2, 17), "ecommerce", posted_after=timedelta(hours=9))
    netflix = t("txn-alice-netflix", a2, "NETFLIX.COM", "Netflix", "4899", 1549, TxnStatus.posted,
                clock.at(25, 8, 0), "recurring", posted_after=timedelta(hours=4))
    old = t("txn-alice-old", a2, "DELTA AIR 0062345", "Delta Air Lines", "4511", 38920, TxnStatus.posted,
            clock.at(150, 14, 22), "ecommerce", posted_after=timedelta(days=1))
    amzn = t("txn-alice-amzn", a1, "AMZN MKTP US*2K4", "Amazon Marketplace", "5942", 4299, TxnStatus.posted,
             clock.at(1, 10, 31), "ecommerce", posted_after=timedelta(hours=8))
    dup1 = t("txn-bob-dup-1", b1, "SQ *BLUE BOTTLE COFFEE", "Blue Bottle Coffee", "5814", 675, TxnStatus.posted,
             clock.at(2, 8, 14), "card_present")
    dup2 = t("txn-bob-dup-2", b1, "SQ *BLUE BOTTLE COFFEE", "Blue Bottle Coffee", "5814", 675, TxnStatus.posted,
             clock.at(2, 8, 15), "card_present")
    bob_pending = t("txn-bob-pending", b1, "AMZN MKTP US*7Q1", "Amazon Marketplace", "5942", 5820, TxnStatus.pending,
                    clock.at(1, 13, 48), "ecommerce")
    d.transactions += [hold, declined, unrec, netflix, old, amzn, dup1, dup2, bob_pending]

    d.fraud_decisions += [
        FraudDecision(
            decision_id="fd-alice-hold",
            customer_id="demo-alice",
            txn_id=hold.txn_id,
            action=FraudAction.hold,
            risk_score=0.62,
            reason_codes=["UNUSUAL_AMOUNT"],
            model_version=FRAUD_MODEL_VERSION,
            release_requirements=["step_up_verification"],
            created_at=hold.occurred_at + timedelta(seconds=1),
        ),
        FraudDecision(
            decision_id="fd-alice-declined",
            customer_id="demo-alice",
            txn_id=declined.txn_id,
            action=FraudAction.decline,
            risk_score=0.78,
            reason_codes=["FOREIGN_LOCATION"],
            model_version=FRAUD_MODEL_VERSION,
            release_requirements=_release_requirements(["FOREIGN_LOCATION"]),
            created_at=declined.occurred_at + timedelta(seconds=1),
        ),
    ]
    opened_at = clock.at(20, 9, 12)
    review_at = clock.at(18, 15, 40)
    d.cases.append(
        DisputeCase(
            case_id="DSP-ALICE1",
            customer_id="demo-alice",
            txn_id=netflix.txn_id,
            reason=DisputeReason.cancelled_subscription,
            disputed_amount_minor=1549,
            merchant_contacted=True,
            description="I cancelled my Netflix plan before this billing date and was still charged.",
            state=CaseState.under_review,
            channel="chat",
            created_at=opened_at,
            updated_at=review_at,
            provisional_credit_due=opened_at.date() + timedelta(days=10),
            decision_due=opened_at.date() + timedelta(days=45),
            history=[
                CaseEvent(at=opened_at, state=CaseState.opened, note="case created"),
                CaseEvent(at=review_at, state=CaseState.under_review, note="sent to the card network for review"),
            ],
        )
    )
    return d


# --- generated customers ------------------------------------------------------------------------


def _amount(m: Merchant, rng: random.Random) -> int:
    lo, hi = m.amount_range
    if lo == hi:
        return lo
    if m.channel == "atm":
        return rng.randint(lo // 2000, hi // 2000) * 2000
    # Skewed towards the low end, as real spending is.
    return int(lo + (hi - lo) * rng.random() ** 2.2)


def _hour(rng: random.Random) -> tuple[int, int, int]:
    return rng.choice((7, 8, 9, 11, 12, 12, 13, 15, 17, 18, 19, 19, 20, 21, 22)), rng.randrange(60), rng.randrange(60)


class _Generator:
    def __init__(self, anchor: date, seed: int):
        self.rng = random.Random(seed)
        self.clock = _Clock(anchor)
        self.data = DemoData()
        self.used_last4: set[str] = set(RESERVED_LAST4)
        self.case_ids: set[str] = {"DSP-ALICE1"}
        pool = [m for m in MERCHANTS if m.weight > 0]
        self.everyday = [m for m in pool if m.channel != "recurring" and m.mcc not in _HIGH_RISK_MCC]
        self.recurring = [m for m in pool if m.channel == "recurring"]

    # building blocks

    def _txn(self, txn_id: str, card: Card, m: Merchant, when: datetime, *, status=None, amount=None,
             descriptor=None, country="US") -> Transaction:
        days_ago = (self.clock.anchor - when.date()).days
        if status is None:
            status = TxnStatus.pending if days_ago <= 2 and self.rng.random() < 0.5 else TxnStatus.posted
        posted = when + timedelta(hours=self.rng.randint(3, 30)) if status is TxnStatus.posted else None
        if posted is not None and days_ago <= 2:
            posted = when + timedelta(hours=3)
        return Transaction(
            txn_id=txn_id,
            customer_id=card.customer_id,
            card_id=card.card_id,
            card_last4=card.last4,
            descriptor=descriptor or render_descriptor(m, self.rng),
            merchant_name=m.name,
            mcc=m.mcc,
            amount_minor=_amount(m, self.rng) if amount is None else amount,
            status=status,
            occurred_at=when,
            posted_at=posted,
            country=country,
            channel=m.channel,
        )

    def _last4(self) -> str:
        while True:
            v = f"{self.rng.randrange(10000):04d}"
            if v not in self.used_last4:
                self.used_last4.add(v)
                return v

    def _pick(self, merchants: list[Merchant], k: int) -> list[Merchant]:
        chosen: list[Merchant] = []
        while len(chosen) < k:
            m = self.rng.choices(merchants, weights=[x.weight for x in merchants])[0]
            if m not in chosen:
                chosen.append(m)
        return chosen

    def spending(self, prefix: str, cards: list[Card], n: int, *, min_days_ago: int = 1,
                 exclude: frozenset[str] = frozenset(), posted_only: bool = False) -> list[Transaction]:
        """Background spending: a personal set of usual merchants plus monthly subscriptions."""
        everyday = [m for m in self.everyday if m.key not in exclude]
        recurring = [m for m in self.recurring if m.key not in exclude]
        usual = self._pick(everyday, self.rng.randint(10, 18))
        out: list[Transaction] = []
        seq = 0

        def next_id() -> str:
            nonlocal seq
            seq += 1
            return f"txn-{prefix}-{seq:04d}"

        for m in self._pick(recurring, self.rng.randint(1, 4)):
            card = self.rng.choice(cards)
            amount = _amount(m, self.rng)
            first = self.rng.randint(max(min_days_ago, 1), 30)
            descriptor = render_descriptor(m, self.rng)
            for days_ago in range(first, HISTORY_DAYS + 1, 30):
                hh = self.rng.randint(3, 9)
                out.append(self._txn(next_id(), card, m, self.clock.at(days_ago, hh, self.rng.randrange(60)),
                                     status=TxnStatus.posted, amount=amount, descriptor=descriptor))
        for _ in range(n):
            m = self.rng.choices(usual, weights=[x.weight for x in usual])[0]
            days_ago = self.rng.randint(min_days_ago, HISTORY_DAYS)
            status = TxnStatus.posted if posted_only else None
            txn = self._txn(next_id(), self.rng.choice(cards), m, self.clock.at(days_ago, *_hour(self.rng)),
                            status=status)
            if not posted_only and txn.status is TxnStatus.posted and self.rng.random() < 0.004:
                txn = txn.model_copy(update={"status": TxnStatus.reversed})
            out.append(txn)
            if (not posted_only and txn.channel == "ecommerce" and txn.status is TxnStatus.posted
                    and days_ago > 6 and self.rng.random() < 0.03):
                # A refund a few days later: the same descriptor, a negative amount.
                back = days_ago - self.rng.randint(2, 5)
                card = next(c for c in cards if c.card_id == txn.card_id)
                out.append(self._txn(next_id(), card, m, self.clock.at(back, *_hour(self.rng)),
                                     status=TxnStatus.posted, amount=-txn.amount_minor, descriptor=txn.descriptor))
        return out

    def customers(self) -> list[tuple[Customer, list[Card]]]:
        made = []
        for i in range(1, OTHER_CUSTOMERS + 1):
            cid = f"cust-{i:04d}"
            first, last = self.rng.choice(_FIRST), self.rng.choice(_LAST)
            dob = date(1950, 1, 1) + timedelta(days=self.rng.randrange(365 * 53))
            customer = Customer(
                customer_id=cid,
                name=f"{first} {last}",
                email=f"{first.lower()}.{last.lower()}{i}@example.com",
                phone=f"+1-555-{101 + i:04d}",
                date_of_birth=dob,
                vulnerable=self.rng.random() < 0.05,
                created_at=self.clock.at(self.rng.randint(200, 3000), 10, 0),
            )
            cards = [
                Card(card_id=f"card-{i:04d}-{k}", customer_id=cid, last4=self._last4(),
                     network=self.rng.choice(("visa", "visa", "mastercard")), status=CardStatus.active)
                for k in range(1, (2 if self.rng.random() < 0.35 else 1) + 1)
            ]
            made.append((customer, cards))
        return made

    # fraud scenarios, one function of the code(s)

    _SCENARIO_MERCHANTS = {
        "UNUSUAL_AMOUNT": ("bestbuy_com", "apple", "costco", "home_depot"),
        "NEW_MERCHANT_HIGH_RISK": ("draftkings", "coinbase", "fanduel"),
        "FOREIGN_LOCATION": ("shell", "starbucks", "marriott", "mcdonalds"),
        "VELOCITY": ("ebay", "google_play", "apple"),
        "DEVICE_CHANGE": ("amazon_com", "apple", "walmart_com"),
        "CNP_MISMATCH": ("amazon_com", "ebay", "temu", "etsy"),
        "COMPROMISE_SUSPECTED": ("temu", "ebay", "steam"),
        "SANCTIONS_SCREENING": ("western_union",),
        "INSUFFICIENT_FUNDS": ("kroger", "target", "chevron", "costco"),
        "CARD_FROZEN": ("starbucks", "target", "uber_trip"),
        "LIMIT_EXCEEDED": ("bestbuy_store", "costco", "ikea"),
        "MCC_BLOCKED": ("draftkings", "fanduel"),
    }

    def fraud(self, owners: list[tuple[Customer, list[Card]]], txns_by_card: dict[str, list[Transaction]]) -> None:
        plans: list[list[str]] = []
        for code in REASON_CODES:
            plans += [[code]] * 3
        plans += [["FOREIGN_LOCATION", "UNUSUAL_AMOUNT"], ["VELOCITY", "DEVICE_CHANGE"],
                  ["NEW_MERCHANT_HIGH_RISK", "UNUSUAL_AMOUNT"], ["CNP_MISMATCH", "VELOCITY"]]
        owners_cycle = owners[:]
        self.rng.shuffle(owners_cycle)
        frozen_cards: set[str] = set()
        for n, codes in enumerate(plans, 1):
            customer, cards = owners_cycle[n % len(owners_cycle)]
            card = next((c for c in cards if c.card_id not in frozen_cards), None)
            if card is None:
                customer, cards = owners_cycle[(n + 7) % len(owners_cycle)]
                card = cards[0]
            primary = codes[0]
            m = MERCHANTS_BY_KEY[self.rng.choice(self._SCENARIO_MERCHANTS[primary])]
            allowed = frozenset.intersection(*(ALLOWED_ACTIONS[c] for c in codes))
            action = self.rng.choice(sorted(allowed, key=lambda a: a.value))
            days_ago = self.rng.randint(1, 40)
            released = action is FraudAction.hold and days_ago > 5 and self.rng.random() < 0.7
            status = {
                FraudAction.decline: TxnStatus.declined,
                FraudAction.hold: TxnStatus.posted if released else TxnStatus.pending,
                FraudAction.review: TxnStatus.pending,
            }[action]
            amount = _amount(m, self.rng)
            if "UNUSUAL_AMOUNT" in codes or "LIMIT_EXCEEDED" in codes:
                amount = max(amount, self.rng.randint(80000, 250000))
            country = self.rng.choice(("MX", "GB", "FR", "BR", "TH", "NG")) if "FOREIGN_LOCATION" in codes else "US"
            when = self.clock.at(days_ago, *_hour(self.rng))
            txn = self._txn(f"txn-fd-{n:03d}", card, m, when, status=status, amount=amount, country=country)
            if "VELOCITY" in codes:
                for k in range(1, 4):  # the burst that tripped the rule
                    burst = self._txn(f"txn-fd-{n:03d}-v{k}", card, m, when - timedelta(minutes=4 * k),
                                      status=TxnStatus.posted if days_ago > 2 else TxnStatus.pending,
                                      amount=_amount(m, self.rng))
                    self.data.transactions.append(burst)
            if primary == "CARD_FROZEN":
                # The customer froze the card: nothing after the decline went through on it.
                frozen_cards.add(card.card_id)
                idx = next(i for i, c in enumerate(self.data.cards) if c.card_id == card.card_id)
                self.data.cards[idx] = card.model_copy(update={"status": CardStatus.frozen})
                txns_by_card[card.card_id][:] = [t for t in txns_by_card[card.card_id] if t.occurred_at < when]
            self.data.transactions.append(txn)
            fraud_kind = any(REASON_CODES[c].kind == "fraud" for c in codes)
            self.data.fraud_decisions.append(
                FraudDecision(
                    decision_id=f"fd-{n:04d}",
                    customer_id=customer.customer_id,
                    txn_id=txn.txn_id,
                    action=action,
                    risk_score=round(self.rng.uniform(0.55, 0.98) if fraud_kind else self.rng.uniform(0.02, 0.2), 2),
                    reason_codes=list(codes),
                    model_version=FRAUD_MODEL_VERSION if fraud_kind else ACCOUNT_RULES_VERSION,
                    release_requirements=_release_requirements(codes),
                    released=released,
                    created_at=when + timedelta(seconds=1),
                )
            )

    # existing dispute cases

    _PATHS = {
        CaseState.opened: [CaseState.opened],
        CaseState.awaiting_customer: [CaseState.opened, CaseState.awaiting_customer],
        CaseState.provisional_credit: [CaseState.opened, CaseState.provisional_credit],
        CaseState.under_review: [CaseState.opened, CaseState.provisional_credit, CaseState.under_review],
        CaseState.resolved_won: [CaseState.opened, CaseState.provisional_credit, CaseState.under_review,
                                 CaseState.resolved_won],
        CaseState.resolved_lost: [CaseState.opened, CaseState.under_review, CaseState.resolved_lost],
        CaseState.withdrawn: [CaseState.opened, CaseState.withdrawn],
    }
    _NOTES = {
        CaseState.opened: "case created",
        CaseState.awaiting_customer: "asked the customer for the merchant's receipt",
        CaseState.provisional_credit: "provisional credit posted",
        CaseState.under_review: "sent to the card network for review",
        CaseState.resolved_won: "merchant did not contest; credit made permanent",
        CaseState.resolved_lost: "merchant provided proof of delivery",
        CaseState.withdrawn: "customer withdrew: merchant refunded directly",
    }
    _DESCRIPTIONS = {
        DisputeReason.unauthorised: "I did not make this purchase.",
        DisputeReason.duplicate: "I was charged twice for the same purchase.",
        DisputeReason.wrong_amount: "The amount charged is more than the receipt.",
        DisputeReason.not_received: "The order never arrived.",
        DisputeReason.not_as_described: "The item was damaged and not as advertised.",
        DisputeReason.refund_not_processed: "The merchant promised a refund that never came.",
        DisputeReason.cancelled_subscription: "I cancelled this subscription but was still charged.",
    }

    def _case_id(self) -> str:
        while True:
            cid = "DSP-" + "".join(self.rng.choice(_CASE_ALPHABET) for _ in range(6))
            if cid not in self.case_ids:
                self.case_ids.add(cid)
                return cid

    def cases(self, candidates: list[Transaction]) -> None:
        states = list(self._PATHS) * 3
        used: set[tuple[str, str]] = set()
        for state in states:
            path = self._PATHS[state]
            created_ago = self.rng.randint(len(path) * 5 + 2, 100)
            pool = [t for t in candidates
                    if created_ago + 2 <= (self.clock.anchor - t.occurred_at.date()).days <= created_ago + 50
                    and (t.customer_id, t.txn_id) not in used]
            txn = self.rng.choice(pool)
            used.add((txn.customer_id, txn.txn_id))
            reason = (DisputeReason.cancelled_subscription if txn.channel == "recurring"
                      else self.rng.choice([r for r in DisputeReason if r is not DisputeReason.cancelled_subscription]))
            amount = txn.amount_minor
            if reason is DisputeReason.wrong_amount:
                amount = max(1, amount // 4)
            created = self.clock.at(created_ago, *_hour(self.rng))
            events, at = [], created
            for k, s in enumerate(path):
                if k:
                    at = at + timedelta(days=self.rng.randint(1, 5), hours=self.rng.randint(0, 6))
                events.append(CaseEvent(at=at, state=s, note=self._NOTES[s]))
            self.data.cases.append(
                DisputeCase(
                    case_id=self._case_id(),
                    customer_id=txn.customer_id,
                    txn_id=txn.txn_id,
                    reason=reason,
                    disputed_amount_minor=amount,
                    merchant_contacted=self.rng.random() < 0.6,
                    description=self._DESCRIPTIONS[reason],
                    state=state,
                    channel=self.rng.choice(("chat", "chat", "email")),
                    created_at=created,
                    updated_at=events[-1].at,
                    provisional_credit_due=created.date() + timedelta(days=10),
                    decision_due=created.date() + timedelta(days=45),
                    history=events,
                )
            )


def build(anchor: date | None = None, seed: int = DEFAULT_SEED) -> DemoData:
    """The whole demo data set, in memory (no store): same anchor and seed, same data."""
    anchor = anchor or default_anchor()
    g = _Generator(anchor, seed)
    demo = _demo_customers(g.clock)
    g.data.customers += demo.customers
    g.data.cards += demo.cards
    g.data.transactions += demo.transactions
    g.data.fraud_decisions += demo.fraud_decisions
    g.data.cases += demo.cases
    # The demo customers' everyday spending: at least four days old, all posted, and never at the
    # merchants of their special transactions, so each special one is unambiguous.
    for prefix, cards in (("alice", [c for c in demo.cards if c.customer_id == "demo-alice"]),
                          ("bob", [c for c in demo.cards if c.customer_id == "demo-bob"])):
        g.data.transactions += g.spending(prefix, cards, 45, min_days_ago=4, exclude=_DEMO_EXCLUDED, posted_only=True)

    owners = g.customers()
    txns_by_card: dict[str, list[Transaction]] = {}
    for customer, cards in owners:
        g.data.customers.append(customer)
        g.data.cards += cards
        n = g.rng.randint(70, 100)
        for t in g.spending(customer.customer_id.removeprefix("cust-"), cards, n):
            txns_by_card.setdefault(t.card_id, []).append(t)
    g.fraud(owners, txns_by_card)
    background = [t for ts in txns_by_card.values() for t in ts]
    g.data.transactions += background
    g.cases([t for t in background if t.status is TxnStatus.posted and t.amount_minor > 0])
    g.data.transactions.sort(key=lambda t: (t.customer_id, t.occurred_at, t.txn_id))
    return g.data


def summarise(data: DemoData, anchor: date, seed: int) -> SeedSummary:
    codes = sorted({c for d in data.fraud_decisions for c in d.reason_codes})
    return SeedSummary(
        anchor=anchor,
        seed=seed,
        customers=len(data.customers),
        cards=len(data.cards),
        transactions=len(data.transactions),
        fraud_decisions=len(data.fraud_decisions),
        cases=len(data.cases),
        reason_codes=tuple(codes),
    )


def seed(store, anchor: date | None = None, seed: int = DEFAULT_SEED) -> SeedSummary:
    """Write the demo data into ``store`` (any Store). Re-running without a reset is harmless:
    records are overwritten with identical ones and existing cases are left as they are."""
    anchor = anchor or default_anchor()
    data = build(anchor, seed)
    for c in data.customers:
        store.customers.put(c)
    for card in data.cards:
        store.cards.put(card)
    for i in range(0, len(data.transactions), 500):
        store.transactions.put_many(data.transactions[i : i + 500])
    for d in data.fraud_decisions:
        store.fraud.put(d)
    for case in data.cases:
        try:
            store.cases.create(case)
        except AlreadyExists:
            pass
    return summarise(data, anchor, seed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.demo.demo_data", description=__doc__.splitlines()[0])
    parser.add_argument("--reset", action="store_true", help="empty the store first")
    parser.add_argument("--anchor", type=date.fromisoformat, default=None, help="anchor day (default: today, UTC)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--create-schema", action="store_true", help="create missing tables (DynamoDB Local)")
    args = parser.parse_args(argv)

    from chalicelib.storage.factory import get_store

    store = get_store()
    if args.create_schema:
        store.create_schema()
    if args.reset:
        reset = getattr(store, "reset", None)
        if reset is None:
            print("this store cannot be reset", file=sys.stderr)
            return 2
        reset()
    summary = seed(store, args.anchor, args.seed)
    print(json.dumps(summary.as_dict()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
