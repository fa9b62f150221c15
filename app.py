"""The switchboard: Chalice entry points only. Each parses, calls one service, serialises."""
from __future__ import annotations

from chalice import Chalice

app = Chalice(app_name="dispute-assistant")


@app.lambda_function(name="lex_hook")
def lex_hook(event, context):
    """Amazon Lex V2 dialog + fulfilment code hook."""
    from chatbot.hook import handle_lex_event

    return handle_lex_event(event)
