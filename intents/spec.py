"""The shape of an intent's Lex specification.

Each module in intents/ exposes ``SPEC: IntentSpec`` beside its handler. The same object feeds the
Lex bot builder (CloudFormation), the local emulator (utterance matching, slot elicitation) and
the tests, so the three can never disagree.
"""
from __future__ import annotations

from pydantic import BaseModel, Field, field_validator


class SlotTypeValue(BaseModel):
    value: str
    synonyms: list[str] = Field(default_factory=list)


class SlotTypeSpec(BaseModel):
    """A custom slot type. Built-in types (AMAZON.Number, AMAZON.Date ...) need no spec."""

    name: str
    description: str = ""
    values: list[SlotTypeValue]
    # ORIGINAL_VALUE accepts anything the customer says; TOP_RESOLUTION restricts to values.
    resolution: str = "TOP_RESOLUTION"


class SlotSpec(BaseModel):
    name: str
    slot_type: str  # "AMAZON.Date", "AMAZON.Number", "AMAZON.AlphaNumeric", "AMAZON.FreeFormInput" or a custom SlotTypeSpec.name
    prompt: str
    required: bool = True
    description: str = ""
    # Sample utterances Lex uses to fill this slot when elicited, e.g. "it was {Amount}".
    sample_utterances: list[str] = Field(default_factory=list)


class IntentSpec(BaseModel):
    name: str
    description: str
    sample_utterances: list[str]
    slots: list[SlotSpec] = Field(default_factory=list)  # in elicitation order
    slot_types: list[SlotTypeSpec] = Field(default_factory=list)
    confirmation_prompt: str | None = None
    declination_response: str | None = None
    dialog_code_hook: bool = True
    fulfillment_code_hook: bool = True

    @field_validator("sample_utterances")
    @classmethod
    def _enough(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("duplicate sample utterances")
        return v

    def slot(self, name: str) -> SlotSpec:
        for s in self.slots:
            if s.name == name:
                return s
        raise KeyError(name)
