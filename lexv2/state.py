"""Structures shared by events and responses: slots, intents, dialog actions, contexts, hints, session state.

Wire-format quirk accepted here (seen in genuine published events): a slot value given as the
string ``"None"`` instead of ``null``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Union

from pydantic import Field, field_validator, model_validator

from lexv2.wire import (
    ConfirmationState,
    DialogActionType,
    ElicitationStyle,
    IntentState,
    SlotShape,
    WireModel,
    none_string_slots,
    none_to_empty,
)


class SlotValue(WireModel):
    original_value: str | None = None
    interpreted_value: str | None = None
    resolved_values: list[str] = Field(default_factory=list)


class Slot(WireModel):
    shape: SlotShape | None = None
    value: SlotValue | None = None
    values: list[Slot] | None = None
    sub_slots: dict[str, Slot | None] | None = None

    _coerce_sub_slots = field_validator("sub_slots", mode="before")(
        lambda cls, v: none_string_slots(v)
    )

    @classmethod
    def scalar(cls, value: str, original: str | None = None) -> Slot:
        """A filled Scalar slot, as Lex would send it back after resolving ``value``."""
        return cls(
            shape="Scalar",
            value=SlotValue(
                original_value=value if original is None else original,
                interpreted_value=value,
                resolved_values=[value],
            ),
        )

    @property
    def interpreted(self) -> str | None:
        """The value handlers should use: Lex's interpretation, or ``None`` if it has none.

        For a List slot Lex also fills the top-level ``value``; when it does not, the first
        element's interpretation is returned (see :attr:`interpreted_values` for all of them).
        """
        if self.value is not None and self.value.interpreted_value is not None:
            return self.value.interpreted_value
        if self.values:
            return self.values[0].interpreted
        return None

    @property
    def original(self) -> str | None:
        return self.value.original_value if self.value is not None else None

    @property
    def interpreted_values(self) -> list[str]:
        """Every interpreted value: the elements of a List slot, or the single Scalar value."""
        if self.values:
            return [v for v in (s.interpreted for s in self.values) if v is not None]
        one = self.interpreted
        return [] if one is None else [one]


Slot.model_rebuild()

SlotInput = Union[str, Slot, None]


def to_slot(value: SlotInput | Mapping[str, Any]) -> Slot | None:
    if value is None or isinstance(value, Slot):
        return value
    if isinstance(value, str):
        return Slot.scalar(value)
    if isinstance(value, Mapping):
        return Slot.model_validate(dict(value))
    raise TypeError(f"slot value must be str, Slot, mapping or None, not {type(value).__name__}")


class Intent(WireModel):
    name: str = Field(min_length=1)
    slots: dict[str, Slot | None] = Field(default_factory=dict)
    state: IntentState = "InProgress"
    confirmation_state: ConfirmationState = "None"

    _coerce_slots = field_validator("slots", mode="before")(
        lambda cls, v: none_string_slots(none_to_empty(v))
    )

    def slot_value(self, name: str) -> str | None:
        slot = self.slots.get(name)
        return slot.interpreted if slot is not None else None

    def slot_values(self) -> dict[str, str | None]:
        return {k: (s.interpreted if s is not None else None) for k, s in self.slots.items()}

    def with_slots(self, slots: Mapping[str, SlotInput] | None) -> Intent:
        """A copy with some slots replaced (``str`` → Scalar slot, ``None`` → cleared)."""
        if not slots:
            return self.model_copy(deep=True)
        merged = dict(self.model_copy(deep=True).slots)
        for k, v in slots.items():
            merged[k] = to_slot(v)
        return self.model_copy(update={"slots": merged}, deep=True)


class ElicitSubSlot(WireModel):
    name: str | None = None
    sub_slot_to_elicit: ElicitSubSlot | None = None


ElicitSubSlot.model_rebuild()


class DialogAction(WireModel):
    type: DialogActionType
    slot_to_elicit: str | None = None
    slot_elicitation_style: ElicitationStyle | None = None
    sub_slot_to_elicit: ElicitSubSlot | None = None

    @model_validator(mode="after")
    def _slot_needed(self) -> DialogAction:
        if self.type == "ElicitSlot" and not self.slot_to_elicit:
            raise ValueError("ElicitSlot needs slotToElicit")
        return self


class TimeToLive(WireModel):
    time_to_live_in_seconds: int = Field(ge=0)
    turns_to_live: int = Field(ge=0)


class ActiveContext(WireModel):
    name: str = Field(min_length=1)
    time_to_live: TimeToLive
    context_attributes: dict[str, str] = Field(default_factory=dict)

    _coerce_attrs = field_validator("context_attributes", mode="before")(
        lambda cls, v: none_to_empty(v)
    )


class RuntimeHintValue(WireModel):
    phrase: str


class RuntimeHintDetails(WireModel):
    runtime_hint_values: list[RuntimeHintValue] | None = None
    sub_slot_hints: dict[str, RuntimeHintDetails] | None = None


RuntimeHintDetails.model_rebuild()


class RuntimeHints(WireModel):
    slot_hints: dict[str, dict[str, RuntimeHintDetails]] | None = None


class SessionState(WireModel):
    active_contexts: list[ActiveContext] | None = None
    session_attributes: dict[str, str] = Field(default_factory=dict)
    dialog_action: DialogAction | None = None
    intent: Intent | None = None
    originating_request_id: str | None = None
    runtime_hints: RuntimeHints | None = None

    _coerce_attrs = field_validator("session_attributes", mode="before")(
        lambda cls, v: none_to_empty(v)
    )
