"""A family member's use of the card: who, and whether they had permission (intents/family_use.py)."""
from __future__ import annotations

import pytest

from intents.answers import Answer
from intents.family_use import family_member, permission_in, read_permission


@pytest.mark.parametrize("text,who", [
    ("my son used it", "son"), ("it was my wife", "wife"), ("MY DAUGHTER BOUGHT IT", "daughter"),
    ("i think my teenage son used it", "son"), ("it was my 15 year old son", "son"), ("our kids did it", "kids"),
    ("someone used my card", None), ("it was me", None), ("my card was stolen", None), ("the son of the owner", None),
])
def test_the_person_who_used_the_card_is_found(text, who):
    """Given an answer to "was it you?", When it names someone the customer knows, Then that relation
    is found; strangers, "me" and "my card" name nobody."""
    assert family_member(text) == who


@pytest.mark.parametrize("text,expected", [
    ("my son used it without my permission", Answer.NO), ("my daughter took my card", Answer.NO),
    ("he did it behind my back", Answer.NO), ("my wife bought it, she's allowed", Answer.YES),
    ("my husband, it's fine", Answer.YES), ("i let him use it", Answer.YES), ("my son used it", None),
])
def test_permission_said_in_the_same_breath(text, expected):
    """Given a customer who says who used the card, When they also say whether it was allowed, Then
    that is read (without permission wins over any with: the safe reading)."""
    assert permission_in(text) is expected


@pytest.mark.parametrize("text,expected", [
    ("yes", Answer.YES), ("yes she's allowed", Answer.YES), ("yeah he can use it", Answer.YES),
    ("no", Answer.NO), ("nope, he took it", Answer.NO), ("not this time", Answer.NO), ("no, he did not ask", Answer.NO),
    ("not sure", Answer.UNCLEAR), ("i don't know", Answer.UNCLEAR), ("no idea", Answer.UNCLEAR),
    ("yes but not for that much", Answer.UNCLEAR), ("sort of", Answer.UNCLEAR),
])
def test_the_answer_to_did_they_have_permission(text, expected):
    """Given the question "did they have your permission?", When the customer answers, Then yes, no
    or unclear (a "yes, but not for that much" goes to a person, who sorts out what was agreed)."""
    assert read_permission(text) is expected
