"""The intents the bot knows, in one list: the builder, emulator and hook all read it."""
from __future__ import annotations

from typing import Callable

from intents.dialog import Decision, Turn
from intents.spec import IntentSpec, SlotTypeSpec
from intents import lost_card, out_of_scope, small_talk, withdraw_dispute
from intents import dispute_status, explain_hold, fallback, file_dispute, lookup_transaction, talk_to_agent, verify_identity

_MODULES = {
    "LookupTransaction": lookup_transaction,
    "ExplainHold": explain_hold,
    "FileDispute": file_dispute,
    "DisputeStatus": dispute_status,
    "TalkToAgent": talk_to_agent,
    "VerifyIdentity": verify_identity,
    "LostCard": lost_card,
    "WithdrawDispute": withdraw_dispute,
    "SmallTalk": small_talk,
    "OutOfScope": out_of_scope,
    "FallbackIntent": fallback,
}


def all_specs() -> list[IntentSpec]:
    return [m.SPEC for m in _MODULES.values()]


def spec_for(name: str) -> IntentSpec | None:
    module = _MODULES.get(name)
    return module.SPEC if module else None


def all_slot_types() -> list[SlotTypeSpec]:
    """Custom slot types across intents, each once (intents share e.g. MerchantName, YesNo)."""
    seen: dict[str, SlotTypeSpec] = {}
    for spec in all_specs():
        for st in spec.slot_types:
            seen.setdefault(st.name, st)
    return list(seen.values())


def handler_for(name: str) -> Callable[[Turn], Decision]:
    module = _MODULES.get(name)
    if module is None:
        return fallback.handle
    return module.handle


def intent_names() -> list[str]:
    return list(_MODULES)
