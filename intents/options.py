"""The menu of what the assistant does, shown wherever the customer may not know what to ask.

Why its own module: the fallback, small talk and out-of-scope answers all offer it, and none of
them should import another intent's handler to reach it.
"""
from __future__ import annotations

from intents.dialog import Button, Card

OPTIONS = Card(
    title="I can help with",
    buttons=(
        Button("Check a payment", "Look up a payment"),
        Button("Declined or held payment", "Why was my card declined"),
        Button("Dispute a charge", "I want to dispute a charge"),
        Button("Dispute status", "What's the status of my dispute"),
        Button("Talk to an agent", "Talk to an agent"),
    ),
)
