"""Customer-readable explanations of a decision: what we did, why, and what happens next.

Why no scores or thresholds: the text is shown to the customer (and on subject access requests);
a limit shown is a limit gamed. The wording of each reason comes from the policy's reason table.
"""
from __future__ import annotations

from chalicelib.governance.policy import reason_text

ACTION_TEXT = {
    "file_dispute": ("file your dispute", "filed your dispute"),
    "release_hold": ("release the hold on your payment", "released the hold on your payment"),
    "auto_reply_email": ("answer your email automatically", "answered your email"),
    "route_message": ("route your message", "routed your message"),
}


def compose_explanation(action: str, outcome: str, reasons: list[str]) -> str:
    """Customer-readable account of a decision: what, why, what next. No scores or thresholds."""
    todo, done = ACTION_TEXT.get(action, (f"handle your request ({action})", f"handled your request ({action})"))
    if outcome == "allow":
        what = f"We {done}."
    elif outcome == "escalate":
        what = f"We did not {todo} automatically: a member of our team will handle it."
    elif outcome == "deny":
        what = f"We could not {todo}."
    else:
        what = f"Outcome: {outcome}."
    texts = [reason_text(r) for r in reasons]
    why = " ".join(dict.fromkeys(t.customer for t in texts if t.customer))
    nxt = " ".join(dict.fromkeys(t.next_step for t in texts if t.next_step))
    parts = [what]
    if why and outcome != "allow":
        parts.append(why)
    if nxt:
        parts.append(f"Next: {nxt}")
    return " ".join(parts)

