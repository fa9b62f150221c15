"""One button and one card definition for handlers and the wire (issue 9: no look-alike dialog models)."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from intents.dialog import Button as DialogButton, Card
from lexv2.builders import card
from lexv2.responses import Button, ImageResponseCard


def test_a_handlers_button_is_the_wire_button():
    """Given the handlers' Button and Card, Then they are the Lex protocol's models, not copies."""
    assert DialogButton is Button
    assert Card is ImageResponseCard


def test_button_reads_the_same_positionally_and_by_name():
    """Given a button written as Button("Yes", "yes") in a handler, When compared with the keyword form,
    Then they are equal and serialise the same on the wire."""
    assert Button("Yes", "yes") == Button(text="Yes", value="yes")
    assert card("File it?", [Button("Yes", "yes")]).model_dump(by_alias=True)["imageResponseCard"]["buttons"] == [
        {"text": "Yes", "value": "yes"}]


def test_an_empty_button_is_refused_where_it_is_written():
    """Given a handler building a button with no text, When it is constructed,
    Then it fails there with a validation error (not later as an invalid Lex response)."""
    with pytest.raises(ValidationError):
        Button("", "yes")
    with pytest.raises(ValidationError):
        Card(title="Pick", buttons=(Button("A", "a"),), colour="red")
