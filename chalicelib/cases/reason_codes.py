"""Network reason codes: which Visa / Mastercard code a dispute of each category is filed under.

The table is data (``data/reason_codes.yaml``); a category the network has no code for, or a
network we do not file with, is refused with a typed error rather than guessed.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from chalicelib.core.models import DisputeReason, Transaction

_DATA = Path(__file__).with_name("data") / "reason_codes.yaml"
CARD_PRESENT_CHANNELS = frozenset({"card_present"})


class NoReasonCode(LookupError):
    code = "case.reason_code.unknown"


@dataclass(frozen=True)
class ReasonCode:
    network: str  # visa | mastercard
    code: str  # "13.1", "4855"
    title: str
    reason: DisputeReason


@lru_cache(maxsize=1)
def reason_code_table() -> dict:
    return yaml.safe_load(_DATA.read_text(encoding="utf-8"))


def networks() -> list[str]:
    return sorted(k for k in reason_code_table() if k != "version")


def reason_code_for(reason: DisputeReason | str, network: str, channel: str = "ecommerce") -> ReasonCode:
    """The code to file ``reason`` under on ``network``; ``channel`` (Transaction.channel) picks
    between card-present and card-absent codes where the network splits them."""
    reason = DisputeReason(reason)
    net = (network or "").strip().lower()
    entry = (reason_code_table().get(net) or {}).get(reason.value)
    if entry is None:
        raise NoReasonCode(f"[{NoReasonCode.code}] no {net or '?'} reason code for {reason.value}")
    if "code" not in entry:
        entry = entry["card_present" if channel in CARD_PRESENT_CHANNELS else "card_absent"]
    return ReasonCode(network=net, code=str(entry["code"]), title=entry["title"], reason=reason)


def reason_code_for_transaction(reason: DisputeReason | str, network: str, txn: Transaction) -> ReasonCode:
    return reason_code_for(reason, network, txn.channel)
