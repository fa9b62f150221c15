"""The held-payment conversation as customers really answer it (intents/hold_questions.py).

A "yes" taken back during step-up verification, small talk at a hold question, and a family
member's use of the card: each is played through the emulator and the real hook on the demo world.
"""
from __future__ import annotations

import pytest

from chalicelib.core.ids import session_key
from chalicelib.governance.metrics import GovernanceMetrics

CHANGES_OF_MIND = ["no i didnt make it", "wait actually it wasn't me", "hang on, no, that wasn't me"]
# The step-up questions of the release, each reached by the answers before it.
PROMPTS = {"CardLast4": [], "DateOfBirth": ["4242"], "OneTimeCode": ["4242", "12 April 1988"]}


def _held(world):
    return next(f for f in world.store.fraud.list_for_customer("demo-alice") if f.decision_id == "fd-alice-hold")


def _to_step_up(world, prompt: str):
    chat = world.emulator("demo-alice")
    chat.send("hi")
    result = chat.send("yes it was me")
    for answer in PROMPTS[prompt]:
        result = chat.send(answer)
    assert (result.intent, result.slot_to_elicit) == ("VerifyIdentity", prompt)
    return chat


def _handoffs(world, chat):
    return world.store.handoffs.list_for_session(session_key(chat.session_id))


@pytest.mark.parametrize("prompt", list(PROMPTS))
@pytest.mark.parametrize("words", CHANGES_OF_MIND)
def test_a_yes_taken_back_at_any_step_up_question_is_a_not_me(world, prompt, words):
    """Given Alice said "yes it was me" about her held payment and is being verified for its release,
    When she takes it back at any of the verification questions, Then it is read as "not me" (as a
    first "no" is): the payment stays held, the fraud team gets it, the card block is offered; she
    used to get "That doesn't look like four digits." and then a person."""
    chat = _to_step_up(world, prompt)
    result = chat.send(words)
    assert (result.intent, result.slot_to_elicit) == ("ExplainHold", "BlockCard"), result.as_json()
    said = " ".join(result.bot)
    assert "stays blocked" in said and "fraud team" in said and "digits" not in said
    assert [h.reason for h in _handoffs(world, chat)] == ["fraud_reported_by_customer"]
    assert not _held(world).released


def test_a_code_typed_after_taking_the_yes_back_releases_nothing(world):
    """Given Alice took her yes back at the one-time-code question, When she then types the code she
    was sent, Then the payment is still held: the parked release was dropped with the yes."""
    chat = _to_step_up(world, "OneTimeCode")
    code = world.latest_code("demo-alice")
    chat.send("actually no that wasn't me")
    result = chat.send(code)
    assert not _held(world).released
    assert "released" not in " ".join(result.bot).lower()


@pytest.mark.parametrize("words", ["never mind, leave it on hold", "forget it", "don't release it"])
def test_stopping_the_release_during_verification_leaves_the_payment_held(world, words):
    """Given Alice is being verified for a release, When she says to stop, Then the payment is left
    held, nothing is reported to the fraud team, and the conversation closes."""
    chat = _to_step_up(world, "CardLast4")
    result = chat.send(words)
    assert (result.intent, result.dialog_action) == ("ExplainHold", "Close"), result.as_json()
    assert "left it as it is" in " ".join(result.bot)
    assert _handoffs(world, chat) == [] and not _held(world).released


@pytest.mark.parametrize("words", ["hold on, let me find my card", "no idea sorry", "wait", "why do you need that"])
def test_words_that_are_no_change_of_mind_stay_with_the_verification_question(world, words):
    """Given Alice is at the card-digits question of a release, When she says something that takes
    nothing back, Then verification goes on as before (no fraud report, no release)."""
    chat = _to_step_up(world, "CardLast4")
    result = chat.send(words)
    assert (result.intent, result.slot_to_elicit) == ("VerifyIdentity", "CardLast4"), result.as_json()
    assert _handoffs(world, chat) == []


def test_a_taken_back_yes_counts_as_confirmed_fraud_once(world):
    """Given the response time was counted for Alice's first "yes", When she takes it back during
    verification, Then one confirmed fraud is emitted (the first answer had counted none)."""
    lines: list[str] = []
    world.services.metrics = GovernanceMetrics(sink=lines.append, enabled=True)
    chat = _to_step_up(world, "CardLast4")
    chat.send("wait actually it wasn't me")
    assert sum('"FraudConfirmed"' in line for line in lines) == 1


@pytest.mark.parametrize("words", ["are you a bot", "are you a real person?", "is this a bot", "hello?"])
def test_small_talk_at_the_card_digits_question_asks_it_again(world, words):
    """Given Alice is at the card-digits question, When she asks whether she is talking to a bot,
    Then she gets an answer and the same question, and her digits then carry on the verification."""
    chat = _to_step_up(world, "CardLast4")
    result = chat.send(words)
    assert (result.intent, result.slot_to_elicit) == ("VerifyIdentity", "CardLast4"), result.as_json()
    assert "last four digits" in " ".join(result.bot)
    assert chat.send("4242").slot_to_elicit == "DateOfBirth"


def test_small_talk_at_the_block_question_asks_it_again(world):
    """Given Alice disowned the payment and is asked whether to block her card, When she asks if she
    is talking to a bot, Then she is answered and asked about the block again; her yes then blocks it."""
    chat = world.emulator("demo-alice")
    chat.send("hi")
    chat.send("no it wasn't me")
    result = chat.send("am I talking to a robot?")
    assert (result.intent, result.slot_to_elicit) == ("ExplainHold", "BlockCard"), result.as_json()
    assert "automated assistant" in " ".join(result.bot) and "blocked" in " ".join(result.bot)
    assert chat.send("yes").dialog_action == "Close"
    assert {c.card_id: c.status.value for c in world.store.cards.list_for_customer("demo-alice")}["card-alice-1"] == "blocked"


def test_the_fraud_team_is_told_who_used_the_card_without_permission(world):
    """Given Alice said her son used the card, When she says he had no permission, Then the fraud
    ticket's context says who and that it was without permission, and the payment stays held."""
    chat = world.emulator("demo-alice")
    chat.send("hi")
    chat.send("my son used it")
    chat.send("no")
    [handoff] = _handoffs(world, chat)
    assert handoff.reason == "fraud_reported_by_customer"
    assert (handoff.context["used_by"], handoff.context["permission"]) == ("son", False)
    assert not _held(world).released


def test_unclear_answers_about_permission_reach_a_person(world):
    """Given Alice named her husband, When she cannot say twice whether he had permission, Then a
    person takes over (the bot never guesses about a held payment) and nothing is released."""
    chat = world.emulator("demo-alice")
    chat.send("hi")
    chat.send("my husband")
    assert chat.send("not sure").slot_to_elicit == "FamilyPermission"
    result = chat.send("dunno")
    assert result.dialog_action == "Close" and any("HND-" in m for m in result.bot)
    [handoff] = _handoffs(world, chat)
    assert (handoff.reason, handoff.context["question"], handoff.context["used_by"]) == (
        "unclear_answer", "family_permission", "husband")
    assert not _held(world).released


def test_a_forged_permission_marker_is_not_trusted(world):
    """Given a client that sends a made-up hold-question marker, When the hook reads it, Then it is not
    taken as a family member (only the fixed list of relations is)."""
    from intents.hold_questions import family_asked

    class _T:
        session = {"holdQuestion": "family:<script>"}

    assert family_asked(_T()) is None
    _T.session = {"holdQuestion": "family:son"}
    assert family_asked(_T()) == "son"


@pytest.mark.parametrize("words", ["why was it held?", "what is this about?", "how come you stopped it"])
def test_why_at_was_it_you_gets_the_reason_and_the_question_again(world, words):
    """Given Alice was asked "Was it you?", When she asks why it was held, Then she gets the reason in
    customer-safe words and the question again (it used to count as an unclear answer, or be taken
    for a new lookup), and a bare "no" afterwards still disowns the payment."""
    chat = world.emulator("demo-alice")
    chat.send("hi")
    result = chat.send(words)
    said = " ".join(result.bot)
    assert (result.intent, result.slot_to_elicit) == ("ExplainHold", "ReleaseHold"), result.as_json()
    assert "larger than the payments we usually see" in said and "was it you?" in said
    assert "just to be sure" not in said and "score" not in said
    assert chat.send("no").slot_to_elicit == "BlockCard"
    assert not _held(world).released


@pytest.mark.parametrize("words, reply", [("thanks", "You're welcome."), ("how are you?", "I'm well")])
def test_small_talk_at_was_it_you_is_answered_and_the_question_kept(world, words, reply):
    """Given Alice was asked "Was it you?", When she says thanks or asks how the bot is, Then she is
    answered and asked again: the held payment is not dropped from the conversation."""
    chat = world.emulator("demo-alice")
    chat.send("hi")
    result = chat.send(words)
    assert (result.intent, result.slot_to_elicit) == ("ExplainHold", "ReleaseHold"), result.as_json()
    assert reply in " ".join(result.bot) and "was it you?" in " ".join(result.bot)


@pytest.mark.parametrize("words", ["actually it was me", "oh wait, that was me after all", "sorry it was me"])
def test_a_fraud_report_taken_back_at_the_block_question_blocks_and_releases_nothing(world, words):
    """Given Alice disowned the held payment and was offered a card block, When she says it was her
    after all, Then her card is not blocked and the payment stays held for the fraud team to check
    with her (a report taken back in chat is never a release: it is what a fraudster holding the
    phone would say), and she is told so with her reference."""
    chat = world.emulator("demo-alice")
    chat.send("hi")
    chat.send("no it wasn't me")
    result = chat.send(words)
    said = " ".join(result.bot)
    assert (result.intent, result.dialog_action) == ("ExplainHold", "Close"), result.as_json()
    assert "won't block your card" in said and "stays on hold" in said and "HND-" in said
    assert {c.status.value for c in world.store.cards.list_for_customer("demo-alice")} == {"active"}
    assert not _held(world).released
