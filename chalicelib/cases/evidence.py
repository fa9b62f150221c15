"""Evidence checklists: what the bank needs for a dispute of each category, and what is missing.

The lists are data (``data/evidence.yaml``). An item is required always, required only when a fact
about the case holds (``required_if: goods``: the purchase was goods rather than a service), or
optional. ``missing`` is what an agent (and later the customer) is asked for next.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Mapping

import yaml

from chalicelib.core.models import DisputeCase, DisputeReason

_DATA = Path(__file__).with_name("data") / "evidence.yaml"


@dataclass(frozen=True)
class EvidenceItem:
    key: str
    label: str
    source: str  # customer | bank
    required: bool = False
    required_if: str | None = None

    def is_required(self, facts: Mapping[str, bool]) -> bool:
        return self.required or bool(self.required_if and facts.get(self.required_if))


@dataclass(frozen=True)
class EvidenceStatus:
    reason: DisputeReason
    collected: tuple[str, ...]
    missing_required: tuple[EvidenceItem, ...]
    missing_optional: tuple[EvidenceItem, ...]

    @property
    def complete(self) -> bool:
        return not self.missing_required

    def to_dict(self) -> dict:
        return {
            "reason": self.reason.value,
            "complete": self.complete,
            "collected": list(self.collected),
            "missing_required": [{"key": i.key, "label": i.label, "from": i.source} for i in self.missing_required],
            "missing_optional": [{"key": i.key, "label": i.label, "from": i.source} for i in self.missing_optional],
        }


@lru_cache(maxsize=1)
def _checklists() -> dict[DisputeReason, tuple[EvidenceItem, ...]]:
    doc = yaml.safe_load(_DATA.read_text(encoding="utf-8"))
    out: dict[DisputeReason, tuple[EvidenceItem, ...]] = {}
    for reason in DisputeReason:
        rows = doc.get(reason.value)
        if not rows:
            raise ValueError(f"evidence.yaml has no checklist for {reason.value}")
        out[reason] = tuple(
            EvidenceItem(r["key"], r["label"], r.get("from", "customer"), bool(r.get("required")), r.get("required_if"))
            for r in rows
        )
    return out


def checklist(reason: DisputeReason | str) -> tuple[EvidenceItem, ...]:
    return _checklists()[DisputeReason(reason)]


def _has(value: object) -> bool:
    return value is not None and value is not False and (not isinstance(value, str) or bool(value.strip()))


def missing_evidence(
    reason: DisputeReason | str, collected: Mapping[str, object], facts: Mapping[str, bool] | None = None
) -> EvidenceStatus:
    """What is still missing for ``reason`` given the evidence ``collected`` so far (item key ->
    value; a blank value counts as missing) and ``facts`` about the case (e.g. ``{"goods": True}``)."""
    reason = DisputeReason(reason)
    facts = facts or {}
    items = checklist(reason)
    have = tuple(i.key for i in items if _has(collected.get(i.key)))
    missing = [i for i in items if i.key not in have]
    return EvidenceStatus(
        reason=reason,
        collected=have,
        missing_required=tuple(i for i in missing if i.is_required(facts)),
        missing_optional=tuple(i for i in missing if not i.is_required(facts)),
    )


def case_evidence_status(case: DisputeCase, facts: Mapping[str, bool] | None = None) -> EvidenceStatus:
    return missing_evidence(case.reason, case.evidence, facts)
