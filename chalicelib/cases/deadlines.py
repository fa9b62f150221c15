"""The clocks a dispute runs against, by the rule that binds the card.

- Debit cards, Regulation E (12 CFR 1005.11): provisional credit within 10 business days of the
  notice (20 when the account is new) unless the investigation is finished by then; resolution
  within 45 calendar days, 90 for a new account (first deposit under 30 days before the
  transfer), a point-of-sale debit card transaction, or a transfer not initiated in a US state.
- Credit cards, Regulation Z (12 CFR 1026.13): written acknowledgment within 30 days of the
  notice; resolution within two complete billing cycles, and never later than 90 days.
- Either card: the network's filing window, 120 days from the transaction's processing date,
  or from the expected delivery date for goods or services not received / not as described
  (Visa 13.1 / 13.3, Mastercard 4855 / 4853), never beyond 540 days from processing.

Dates are calendar dates in the bank's time zone; the caller turns a received-at timestamp into
one. A deadline is the last day on which the action is on time.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from chalicelib.cases.business_days import add_business_days
from chalicelib.core.models import Card, CardType, DisputeCase, DisputeReason, Transaction

REG_E_PROVISIONAL_CREDIT_BUSINESS_DAYS = 10
REG_E_PROVISIONAL_CREDIT_BUSINESS_DAYS_NEW_ACCOUNT = 20
REG_E_RESOLUTION_DAYS = 45
REG_E_RESOLUTION_DAYS_EXTENDED = 90
REG_E_NEW_ACCOUNT_DAYS = 30
REG_Z_ACKNOWLEDGE_DAYS = 30
REG_Z_RESOLUTION_CAP_DAYS = 90
REG_Z_BILLING_CYCLES = 2
NETWORK_FILING_DAYS = 120
NETWORK_FILING_CAP_DAYS = 540

# Channels counted as a "point-of-sale debit card transaction" for Reg E's 90-day extension.
# Card-present purchases only: whether card-absent purchases count is a compliance call, and not
# extending is the side that can never make the bank late.
POINT_OF_SALE_CHANNELS = frozenset({"card_present"})
# Reasons whose network window may run from the expected delivery date instead of the transaction.
DELIVERY_REASONS = frozenset({DisputeReason.not_received, DisputeReason.not_as_described})


@dataclass(frozen=True)
class Deadline:
    key: str  # provisional_credit | resolution | acknowledgment | network_filing
    due: date
    rule: str  # citation, e.g. "Reg E 12 CFR 1005.11(c)(2)"
    description: str


@dataclass(frozen=True)
class CaseDeadlines:
    regulation: str  # "reg_e" | "reg_z"
    notice_received: date
    deadlines: tuple[Deadline, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)  # why a period was extended or estimated

    def get(self, key: str) -> Deadline | None:
        return next((d for d in self.deadlines if d.key == key), None)

    def due(self, key: str) -> date | None:
        d = self.get(key)
        return d.due if d else None

    def next_due(self, today: date) -> Deadline | None:
        """The earliest deadline not yet passed (what the agent must act on first)."""
        upcoming = [d for d in self.deadlines if d.due >= today]
        return min(upcoming, key=lambda d: d.due) if upcoming else None

    def to_dict(self) -> dict:
        return {
            "regulation": self.regulation,
            "notice_received": self.notice_received.isoformat(),
            "deadlines": [
                {"key": d.key, "due": d.due.isoformat(), "rule": d.rule, "description": d.description}
                for d in self.deadlines
            ],
            "notes": list(self.notes),
        }


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def add_months(day: date, months: int) -> date:
    """Same day ``months`` later, clamped to the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    m = day.month - 1 + months
    year, month = day.year + m // 12, m % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def cycle_close(year: int, month: int, close_day: int) -> date:
    return date(year, month, min(close_day, calendar.monthrange(year, month)[1]))


def end_of_complete_cycles(notice: date, close_day: int, cycles: int) -> date:
    """Last day of the ``cycles``-th billing cycle that starts after the notice day. The cycle
    the notice arrives in is not complete, even when the notice arrives on its first day."""
    if not 1 <= close_day <= 31:
        raise ValueError("billing cycle close day must be 1..31")
    close = cycle_close(notice.year, notice.month, close_day)
    if close < notice:  # this month's cycle already closed: the running one closes next month
        nxt = add_months(date(notice.year, notice.month, 1), 1)
        close = cycle_close(nxt.year, nxt.month, close_day)
    # ``close`` ends the cycle that contains the notice; count whole cycles after it.
    first = add_months(date(close.year, close.month, 1), cycles)
    return cycle_close(first.year, first.month, close_day)


def reg_e_deadlines(
    notice: date,
    *,
    new_account: bool = False,
    point_of_sale: bool = False,
    foreign: bool = False,
) -> tuple[list[Deadline], list[str]]:
    notes: list[str] = []
    pc_days = REG_E_PROVISIONAL_CREDIT_BUSINESS_DAYS_NEW_ACCOUNT if new_account else REG_E_PROVISIONAL_CREDIT_BUSINESS_DAYS
    if new_account:
        notes.append("new account (under 30 days since first deposit): 20 business days, 90 days")
    extended = new_account or point_of_sale or foreign
    if point_of_sale:
        notes.append("point-of-sale debit card transaction: 90 days to resolve")
    if foreign:
        notes.append("transfer not initiated in a US state: 90 days to resolve")
    resolve_days = REG_E_RESOLUTION_DAYS_EXTENDED if extended else REG_E_RESOLUTION_DAYS
    return [
        Deadline(
            "provisional_credit",
            add_business_days(notice, pc_days),
            "Reg E 12 CFR 1005.11(c)(2)(i)",
            f"provisionally credit the account within {pc_days} business days unless resolved by then",
        ),
        Deadline(
            "resolution",
            notice + timedelta(days=resolve_days),
            "Reg E 12 CFR 1005.11(c)(2)-(3)",
            f"finish the investigation within {resolve_days} calendar days",
        ),
    ], notes


def reg_z_deadlines(notice: date, *, billing_cycle_close_day: int | None = None) -> tuple[list[Deadline], list[str]]:
    notes: list[str] = []
    cap = notice + timedelta(days=REG_Z_RESOLUTION_CAP_DAYS)
    if billing_cycle_close_day is None:
        # Unknown cycle: assume the shortest possible two cycles (one closing on the notice day),
        # which is never later than the real date.
        cycles_end = add_months(notice, REG_Z_BILLING_CYCLES)
        notes.append("billing cycle unknown: two cycles estimated as two months from the notice")
    else:
        cycles_end = end_of_complete_cycles(notice, billing_cycle_close_day, REG_Z_BILLING_CYCLES)
    if cap < cycles_end:
        notes.append("the 90-day ceiling comes before the end of two complete billing cycles")
    return [
        Deadline(
            "acknowledgment",
            notice + timedelta(days=REG_Z_ACKNOWLEDGE_DAYS),
            "Reg Z 12 CFR 1026.13(c)(1)",
            "send written acknowledgment within 30 days unless resolved by then",
        ),
        Deadline(
            "resolution",
            min(cycles_end, cap),
            "Reg Z 12 CFR 1026.13(c)(2)",
            "resolve within two complete billing cycles and at most 90 days",
        ),
    ], notes


def network_filing_deadline(
    transaction_date: date, expected_delivery: date | None = None, network: str = "visa"
) -> Deadline:
    """120 days from processing, or from the expected delivery date when that is later (goods or
    services not received / not as described), never beyond 540 days from processing."""
    start = transaction_date
    rule = f"{network} chargeback time limit: 120 days from the processing date"
    if expected_delivery and expected_delivery > transaction_date:
        start = expected_delivery
        rule = f"{network} chargeback time limit: 120 days from the expected delivery date (max 540)"
    due = min(start + timedelta(days=NETWORK_FILING_DAYS), transaction_date + timedelta(days=NETWORK_FILING_CAP_DAYS))
    return Deadline("network_filing", due, rule, "file the chargeback with the card network")


def deadlines_for(
    card_type: CardType | str,
    notice_received: date | datetime,
    transaction_date: date | datetime,
    *,
    network: str = "visa",
    point_of_sale: bool = False,
    foreign: bool = False,
    account_opened: date | datetime | None = None,
    expected_delivery: date | None = None,
    billing_cycle_close_day: int | None = None,
) -> CaseDeadlines:
    """Every deadline of one dispute, earliest first."""
    notice = _as_date(notice_received)
    txn_day = _as_date(transaction_date)
    kind = CardType(card_type)
    if kind is CardType.debit:
        new_account = account_opened is not None and (txn_day - _as_date(account_opened)).days < REG_E_NEW_ACCOUNT_DAYS
        found, notes = reg_e_deadlines(notice, new_account=new_account, point_of_sale=point_of_sale, foreign=foreign)
        regulation = "reg_e"
    else:
        found, notes = reg_z_deadlines(notice, billing_cycle_close_day=billing_cycle_close_day)
        regulation = "reg_z"
    found.append(network_filing_deadline(txn_day, expected_delivery, network))
    return CaseDeadlines(regulation, notice, tuple(sorted(found, key=lambda d: (d.due, d.key))), tuple(notes))


def deadlines_for_case(
    case: DisputeCase,
    txn: Transaction,
    card: Card,
    *,
    account_opened: date | datetime | None = None,
    expected_delivery: date | None = None,
    billing_cycle_close_day: int | None = None,
) -> CaseDeadlines:
    """Deadlines of a stored case: the notice is the day the case was opened."""
    return deadlines_for(
        card.card_type,
        case.created_at,
        txn.posted_at or txn.occurred_at,
        network=card.network,
        point_of_sale=txn.channel in POINT_OF_SALE_CHANNELS,
        foreign=txn.country.upper() != "US",
        account_opened=account_opened,
        expected_delivery=expected_delivery if case.reason in DELIVERY_REASONS else None,
        billing_cycle_close_day=billing_cycle_close_day,
    )
