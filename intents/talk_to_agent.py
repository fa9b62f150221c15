"""TalkToAgent: hand over to a human with the whole conversation context."""
from __future__ import annotations

from intents.dialog import Decision, Turn
from intents.replies import render
from intents.spec import IntentSpec
from intents.handoff import escalate

SPEC = IntentSpec(
    name="TalkToAgent",
    description="Hand the conversation to a human agent.",
    sample_utterances=[
        "talk to an agent",
        "speak to a human",
        "I want to talk to a person",
        "can I speak to someone",
        "connect me to customer service",
        "agent please",
        "human please",
        "get me a real person",
        "I need help from a person",
        "transfer me to an agent",
        "speak to a representative",
        "call me back",
        "this isn't helping, I want a human",
        "I want to make a complaint to a person",
        "operator",
        "let me talk to support",
        # everyday phrasing (issue 13 part B): street words, slang, UK and US wording
        'get me someone who can actually help',
        'I need to speak to somebody',
        'put me through to a person',
        'can a human help me',
        'let me speak to your manager',
        'is there anyone real I can talk to',
    ],
    fulfillment_code_hook=True,
)


def handle(turn: Turn) -> Decision:
    return escalate(turn, "customer_request", render("agent_handoff"))
