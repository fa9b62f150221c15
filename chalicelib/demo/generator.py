"""The generated customers (``cust-0001`` ...): cards, everyday and recurring spending from the
merchant directory, fraud decisions and dispute cases, every choice from one seeded generator.
"""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from chalicelib.payments.fraud_codes import REASON_CODES
from chalicelib.payments.merchants import MERCHANTS, MERCHANTS_BY_KEY, Merchant, render_descriptor
from chalicelib.core.models import (Card, CardStatus, CaseEvent, CaseState, Customer, DisputeCase, DisputeReason, FraudAction,
                                    FraudDecision, Transaction, TxnStatus)
from chalicelib.demo.records import (
    HISTORY_DAYS,
    OTHER_CUSTOMERS,
    RESERVED_LAST4,
    FRAUD_MODEL_VERSION,
    ACCOUNT_RULES_VERSION,
    ALLOWED_ACTIONS,
    HIGH_RISK_MCC,
    FIRST_NAMES,
    LAST_NAMES,
    CASE_ALPHABET,
    DemoData,
    DemoClock,
    release_requirements,
)


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


class DemoGenerator:
    def __init__(self, anchor: date, seed: int):
        self.rng = random.Random(seed)
        self.clock = DemoClock(anchor)
        self.data = DemoData()
        self.used_last4: set[str] = set(RESERVED_LAST4)
        self.case_ids: set[str] = {"DSP-ALICE1"}
        pool = [m for m in MERCHANTS if m.weight > 0]
        self.everyday = [m for m in pool if m.channel != "recurring" and m.mcc not in HIGH_RISK_MCC]
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
            first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
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
                    release_requirements=release_requirements(codes),
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
            cid = "DSP-" + "".join(self.rng.choice(CASE_ALPHABET) for _ in range(6))
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
