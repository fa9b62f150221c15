"""The yes / no / "not me" reader: negation has a scope, and the question decides the meaning.

The phrasings are what customers type (typos, slang, emphasis, emoji); the tricky ones are the
reason the reader exists: "no, it was me" is a yes, "yes, that's not mine" disowns the payment.
"""
from __future__ import annotations

import pytest

from intents.answers import (
    BLOCK_CARD,
    CONFIRM_ACTION,
    MERCHANT_CONTACTED,
    WAS_IT_YOU,
    WAS_IT_YOURS,
    Answer,
    confirmation_answer,
    reclaim_answer,
    read_answer,
)

YES, NO, NOT_ME, UNCLEAR = Answer.YES, Answer.NO, Answer.NOT_ME, Answer.UNCLEAR

WAS_IT_YOU_CASES = [
    # disowning, in the words of the issue and beyond
    ("no that was not me, i did not buy anything at best buy", NOT_ME),
    ("no that wasn't me!! I didn't buy anything at best buy", NOT_ME),
    ("that wasn't me!!", NOT_ME),
    ("that wasnt me", NOT_ME),
    ("I didn't make it", NOT_ME),
    ("I didn't", NOT_ME),
    ("not mine", NOT_ME),
    ("never bought anything there", NOT_ME),
    ("i did not buy anything at best buy", NOT_ME),
    ("someone else used my card", NOT_ME),
    ("I don't recognise it", NOT_ME),
    ("i dont recognize this", NOT_ME),
    ("fraud", NOT_ME),
    ("this is fraud!", NOT_ME),
    ("yes, that's not mine", NOT_ME),
    ("not that I know of", NOT_ME),
    ("I never made that", NOT_ME),
    ("didn't buy it", NOT_ME),
    ("there's no way I bought that", NOT_ME),
    ("no way i spent that much", NOT_ME),
    ("my card was stolen", NOT_ME),
    ("they used my card", NOT_ME),
    ("NOT ME", NOT_ME),
    ("not me", NOT_ME),
    ("Nope, not mine", NOT_ME),
    ("it wasn\u2019t me", NOT_ME),  # typographic apostrophe
    ("I'm not sure, I don't recognise it", NOT_ME),  # disowning outweighs the hedge: the safe reading
    ("i have never been to that shop, didn't buy it", NOT_ME),
    ("somebody hacked my account", NOT_ME),
    ("i did NOT authorise this", NOT_ME),
    # owning it
    ("no, it was me", YES),
    ("no no it was me", YES),
    ("it wasn't not me", YES),
    ("yes I did buy it", YES),
    ("I did", YES),
    ("it was me", YES),
    ("that's me", YES),
    ("yeah I bought a tv there", YES),
    ("it's not fraud, it was me", YES),
    ("nobody else used it, it was me", YES),
    ("me", YES),
    # plain yes
    ("yes", YES), ("Yes.", YES), ("YES!!!", YES), ("yesss", YES), ("yep", YES), ("yup", YES), ("ya", YES),
    ("yeah", YES), ("ok", YES), ("okay", YES), ("sure", YES), ("go ahead", YES), ("\U0001f44d", YES),
    ("\U0001f44d\U0001f3fd", YES), ("y", YES), ("yes please release it", YES), ("of course", YES),
    # plain no: keep it held, not a fraud report
    ("no", NO), ("NO.", NO), ("noooo", NO), ("nope", NO), ("nah", NO), ("n", NO), ("no thanks", NO),
    ("not now", NO), ("not yet", NO), ("don't release it", NO), ("keep it blocked", NO), ("no, leave it", NO),
    ("no, I'll wait", NO), ("\U0001f44e", NO), ("hell no", NO),
    # unclear: never guessed
    ("I'm not sure", UNCLEAR), ("not sure", UNCLEAR), ("maybe", UNCLEAR), ("what?", UNCLEAR), ("hmm", UNCLEAR),
    ("idk", UNCLEAR), ("y/n", UNCLEAR), ("yes and no", UNCLEAR), ("maybe it was me", UNCLEAR), ("", UNCLEAR),
    ("can you tell me more", UNCLEAR), ("I don't know", UNCLEAR), ("it was me, not me", UNCLEAR),
    ("why was it held?", UNCLEAR), ("\U0001f937", UNCLEAR),
]


@pytest.mark.parametrize("text,expected", WAS_IT_YOU_CASES, ids=[t or "<empty>" for t, _ in WAS_IT_YOU_CASES])
def test_was_it_you(text, expected):
    """Given the question "was it you / can it go through?", When the customer answers,
    Then the reader returns what they meant, with negation read in its own clause."""
    assert read_answer(text, WAS_IT_YOU) is expected


MERCHANT_CASES = [
    ("I didn't", NO), ("I haven't", NO), ("no I haven't", NO), ("not yet", NO), ("nope", NO),
    ("not that I know of", NO), ("I haven't contacted them", NO), ("no, they won't reply anyway", NO),
    ("I did", YES), ("yes I called them", YES), ("I emailed them twice", YES), ("yes", YES),
    ("I tried but they didn't answer", YES), ("yes, they refused a refund", YES), ("I spoke to them yesterday", YES),
    ("maybe", UNCLEAR), ("I'm not sure", UNCLEAR), ("what?", UNCLEAR), ("I did, no I didn't", UNCLEAR),
]


@pytest.mark.parametrize("text,expected", MERCHANT_CASES, ids=[t for t, _ in MERCHANT_CASES])
def test_merchant_contacted(text, expected):
    """Given "have you contacted the merchant?", When the customer answers, Then "I didn't" is a
    plain no (not a fraud report) and a "they didn't" about the merchant is not the customer's no."""
    assert read_answer(text, MERCHANT_CONTACTED) is expected


CONFIRM_CASES = [
    ("yes", YES), ("yes, file it", YES), ("please do", YES), ("yep do it", YES), ("sure", YES), ("go ahead", YES),
    ("no", NO), ("don't file it", NO), ("cancel", NO), ("no, I want to change the amount", NO), ("nah", NO),
    ("I'm not sure", UNCLEAR), ("hmm", UNCLEAR), ("what does that mean?", UNCLEAR),
    ("no, that wasn't me", UNCLEAR),  # no to filing, or "no, I didn't make it"? Ask, don't guess.
]


@pytest.mark.parametrize("text,expected", CONFIRM_CASES, ids=[t for t, _ in CONFIRM_CASES])
def test_confirm_action(text, expected):
    """Given "shall I file this dispute?", When the customer answers, Then only a clear yes files."""
    assert read_answer(text, CONFIRM_ACTION) is expected


@pytest.mark.parametrize("text,expected", [("yes, block my card", YES), ("Block my card", YES), ("no", NO),
                                           ("no thanks, just the fraud team", NO), ("don't block it", NO),
                                           ("Talk to the fraud team", UNCLEAR)])
def test_block_card(text, expected):
    """Given "shall I have your card blocked?", When the customer answers, Then talk of fraud is not a no."""
    assert read_answer(text, BLOCK_CARD) is expected


def test_same_words_mean_different_things_for_different_questions():
    """Given "I didn't", Then it disowns a payment but only declines a merchant-contact question."""
    assert read_answer("I didn't", WAS_IT_YOU) is NOT_ME
    assert read_answer("I didn't", MERCHANT_CONTACTED) is NO


def test_unknown_question_kind_fails_loudly():
    with pytest.raises(ValueError):
        read_answer("yes", "was_it_them")


class _Turn:
    """Just enough of intents.dialog.Turn for the turn helpers."""

    def __init__(self, **kw):
        self.intent_name = kw.get("intent_name", "FileDispute")
        self.transcript = kw.get("transcript", "")
        self.confirmation_state = kw.get("confirmation_state", "None")
        self.session = kw.get("session", {})
        self.slots = kw.get("slots", {})
        self.slot_to_elicit = kw.get("slot_to_elicit")

    def with_(self, **changes):
        return _Turn(**{**self.__dict__, **changes})


def test_lex_denied_is_reread_from_the_transcript():
    """Given Lex's Confirmed/Denied (a word search: "no, that wasn't me" is Denied), When the
    transcript is there, Then the transcript decides; without one, Lex's state stands."""
    assert confirmation_answer(_Turn(confirmation_state="Denied", transcript="no, that wasn't me")) is UNCLEAR
    assert confirmation_answer(_Turn(confirmation_state="Confirmed", transcript="yes no")) is UNCLEAR
    assert confirmation_answer(_Turn(confirmation_state="Confirmed", transcript="")) is YES
    assert confirmation_answer(_Turn(confirmation_state="None", transcript="yes")) is None  # not asked this turn
    assert confirmation_answer(_Turn(session={"asked": "FileDispute:"}, transcript="maybe")) is UNCLEAR


def test_an_answer_lex_took_for_another_intent_returns_to_its_question():
    """Given the bot asked about the hold, When Lex heard "someone else used my card" as a new
    dispute, Then the turn goes back to ExplainHold with the words as the answer."""
    turn = _Turn(intent_name="FileDispute", transcript="someone else used my card",
                 session={"asked": "ExplainHold:ReleaseHold"})
    back = reclaim_answer(turn)
    assert back.intent_name == "ExplainHold" and back.slot_to_elicit == "ReleaseHold"
    assert back.slots == {"ReleaseHold": "someone else used my card"}
    assert reclaim_answer(_Turn(intent_name="FileDispute", transcript="what's this?",
                                session={"asked": "ExplainHold:ReleaseHold"})).intent_name == "FileDispute"


@pytest.mark.parametrize("lead", ["yes", "Yeah,", "ok", "sure.", "no", "Nope!!", "👍", "hmm,"])
@pytest.mark.parametrize("disown", ["that wasn't me", "i didn't buy it", "not mine", "someone else used my card",
                                    "I never made this payment", "I don't recognise it"])
def test_a_disowned_payment_is_never_released_whatever_comes_first(lead, disown):
    """Given any yes, no or hesitation in front of a disowning sentence, When the hold question is
    answered, Then the reader says NOT_ME: a word search would have seen the "yes" and released it."""
    assert read_answer(f"{lead} {disown}", WAS_IT_YOU) is NOT_ME


@pytest.mark.parametrize("lead", ["wait", "wait,", "actually", "actually no", "wait no", "oh no", "well no", "hang on, no,",
                                  "honestly", "sorry, no", "hmm no", "oops no", "wait actually", "ok no wait"])
@pytest.mark.parametrize("disown", ["it wasn't me", "that was not me", "i didn't buy it", "i didnt make it"])
def test_a_word_before_the_no_does_not_turn_a_disowning_into_a_yes(lead, disown):
    """Given a disowning sentence opened with "wait", "actually", "oh" before its "no", When the hold
    question is answered, Then it reads NOT_ME (it read YES, and started a release: the leading word
    made the "no" count as a negator of "it wasn't me")."""
    assert read_answer(f"{lead} {disown}", WAS_IT_YOU) is NOT_ME
    assert read_answer(f"{lead} {disown}", WAS_IT_YOURS) is NOT_ME


@pytest.mark.parametrize("text,expected", [
    ("no", NOT_ME), ("nope", NOT_ME), ("nah", NOT_ME), ("NO!!", NOT_ME), ("no way", NOT_ME), ("n", NOT_ME), ("👎", NOT_ME),
    ("not now", NO), ("not yet", NO), ("no thanks", NO), ("no, leave it", NO), ("keep it on hold for now", NO),
    ("maybe later", NO), ("yes", YES), ("it was me", YES), ("no, it was me", YES),
])
def test_a_bare_no_to_was_it_you_disowns_the_payment(text, expected):
    """Given the question "We held a payment at Best Buy. Was it you?", When the customer answers,
    Then a bare "no" says it was not them (NOT_ME), while "not now" or "leave it" only puts it off."""
    assert read_answer(text, WAS_IT_YOURS) is expected


@pytest.mark.parametrize("text", ["no", "nope", "nah"])
def test_a_bare_no_to_the_release_offer_only_leaves_the_payment_held(text):
    """Given the offer "Would you like to confirm it's you so it can go through?", When the customer
    says a bare "no", Then it is a no to the release, not a fraud report."""
    assert read_answer(text, WAS_IT_YOU) is NO


@pytest.mark.parametrize("text", ["i think so", "I believe so", "probably", "yes i think", "i think it was me", "guess so"])
def test_a_hedged_yes_about_a_held_payment_is_asked_again(text):
    """Given a held payment, When the customer only thinks it was them, Then the answer is UNCLEAR for
    both hold questions (a release needs them to be sure) while it stays a yes to filing a dispute."""
    assert read_answer(text, WAS_IT_YOU) is UNCLEAR
    assert read_answer(text, WAS_IT_YOURS) is UNCLEAR
    assert read_answer("i think so", CONFIRM_ACTION) is YES
