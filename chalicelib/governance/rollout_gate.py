"""What a capability asks the rollout: is THIS customer live, and here is one decision for the guards.

Why a gate in front of :class:`~chalicelib.governance.rollout.Rollout`: the capabilities (dispute
filing and hold release in chat, model scoring on the card stream, the Comprehend tier) must never
lose a customer's turn or a card event because the rollout's store hiccuped. So the gate fails
safe: an unreadable stage means shadow for that decision, and an observation that cannot be stored
is logged and dropped from the guards (never from the customer's outcome).

A capability whose stage was never recorded (no ``rollout promote`` and no rollback yet) is not
under progressive rollout: its kill switch alone decides, as before rollout existed. The first
``promote`` (0 → 5) or an automatic rollback puts it under the rollout from then on.

The rollout narrows the kill switch, never widens it: ``off`` stays off, ``shadow`` stays shadow,
and ``on`` becomes ``shadow`` for a customer outside the live percentage.
"""
from __future__ import annotations

import logging
from typing import Any

from chalicelib.core.models import DisputeReason
from chalicelib.governance.rollout_store import Observation

log = logging.getLogger(__name__)


class RolloutGate:
    def __init__(self, rollout: Any):
        self.rollout = rollout

    def live(self, capability: str, subject: str | None) -> bool:
        """True: act for this subject (customer); False: shadow. No subject (an anonymous turn) is
        never in a percentage below 100."""
        try:
            recorded = self.rollout.store.get_stage(capability)
            if recorded is None:
                return True
            stage = recorded[0]
            if stage >= 100:
                return True
            return bool(subject) and self.rollout.applies(capability, subject)
        except Exception:
            log.exception("cannot read the rollout stage of %s: shadow for this decision", capability)
            return False

    def mode(self, capability: str, subject: str | None, mode: str) -> str:
        """The kill switch's ``mode`` narrowed by the rollout for this subject."""
        if mode == "on" and not self.live(capability, subject):
            return "shadow"
        return mode

    def controls_for(self, controls: Any, subject: str | None) -> "SubjectControls":
        """The controls as one subject sees them (what ``DecisionLog.decide`` reads)."""
        return SubjectControls(controls, self, subject)

    def observe(self, capability: str, **fields: Any) -> None:
        """One decision for the capability's guards (an automatic rollback may follow at once)."""
        try:
            self.rollout.observe(capability, Observation(**fields))
        except Exception:
            log.exception("cannot record a rollout observation of %s", capability)

    def released_hold_disputed(self, store: Any, txn: Any, reason: DisputeReason, *, already_disputed: bool) -> bool:
        """The hold-release guard's disagreement feed, whatever the channel of the dispute (chat or
        email): the rules held this payment, the assistant released it after step-up, and now the
        customer says it was not theirs. The rules were right and the release disagreed with them, so
        ``auto_release_hold`` sees one disagreement (its ``rules_disagreement`` guard; an agent's
        overturn feeds ``agent_overturn_rate``). A payment already disputed is not counted again.
        True when it counted."""
        if reason is not DisputeReason.unauthorised or already_disputed:
            return False
        try:
            fd = store.fraud.get_for_transaction(txn.customer_id, txn.txn_id)
        except Exception:  # the guards lose one observation, never the customer's dispute
            log.exception("cannot read the fraud decision of a disputed payment")
            return False
        if fd is None or not fd.released:
            return False
        self.observe("auto_release_hold", disagreed_with_rules=True)
        return True


class SubjectControls:
    """A controls object whose ``mode`` is the rollout-narrowed one for one subject."""

    def __init__(self, controls: Any, gate: RolloutGate, subject: str | None):
        self.controls = controls
        self.gate = gate
        self.subject = subject

    def mode(self, capability: str) -> str:
        if self.controls is None:
            from chalicelib.governance.controls import Controls

            self.controls = Controls.from_env()
        return self.gate.mode(capability, self.subject, self.controls.mode(capability))


class DeferredObservations:
    """The gate as a batch sees it: stages read at once, observations kept until ``flush``.

    Why: the card stream holds one SQLite write transaction per Kinesis batch; an observation
    written on the rollout store's own connection meanwhile would wait for that lock (and a
    rollback it triggers would too). The processor flushes right after each commit."""

    def __init__(self, gate: RolloutGate):
        self.gate = gate
        self._pending: list[tuple[str, dict[str, Any]]] = []

    def live(self, capability: str, subject: str | None) -> bool:
        return self.gate.live(capability, subject)

    def mode(self, capability: str, subject: str | None, mode: str) -> str:
        return self.gate.mode(capability, subject, mode)

    def observe(self, capability: str, **fields: Any) -> None:
        self._pending.append((capability, fields))

    def flush(self) -> int:
        pending, self._pending = self._pending, []
        for capability, fields in pending:
            self.gate.observe(capability, **fields)
        return len(pending)
