"""The switchboard: Chalice entry points only. Each parses, calls one service of the container's
composition root (chatbot/bootstrap.py), serialises. Nothing is built here."""
from __future__ import annotations

from chalice import BadRequestError, Chalice, NotFoundError, Response

from chalicelib.core.settings import get_settings
from chatbot.bootstrap import Container

app = Chalice(app_name="dispute-assistant")

# This container's services: each is built the first time an entry point asks for it, so the Lex
# hook's container never builds the email service, and importing this module builds nothing.
root = Container()
app.container = root  # the blueprints (agent API, console) reach the container's services through their app


def _local_channel():
    """The local web chat, or 404 when this deployment is not local (see chatbot/webchat.py)."""
    if not get_settings().local_channel:
        raise NotFoundError("not found")
    return root.get("webchat")


@app.lambda_function(name="lex_hook")
def lex_hook(event, context):
    """Amazon Lex V2 dialog + fulfilment code hook."""
    return root.handle_lex_event(event)


# Read at import: Chalice needs the queue name and batch size when it packages the app.
_ingest_settings = get_settings()


@app.on_sqs_message(
    queue=_ingest_settings.email_queue_name, batch_size=_ingest_settings.email_batch_size, name="email_ingest"
)
def email_ingest(event):
    """SES-stored raw mail, announced by S3 through SQS: triage each message (chalicelib/ingest/; the root hands it nlp's triage)."""
    records = event.to_dict().get("Records", [])
    return root.get("email_ingest").handle_batch(
        records, partial_batch_response=get_settings().email_partial_batch_response
    )


@app.on_sqs_message(
    queue=_ingest_settings.escalation_queue_name, batch_size=_ingest_settings.escalation_batch_size,
    name="escalation_worker",
)
def escalation_worker(event):
    """Escalation requests from chat and email (chalicelib/tickets/escalation_worker.py): open or merge
    the ticket, tell its queue's team once; failed records are reported, retried, then dead-lettered."""
    records = event.to_dict().get("Records", [])
    return root.get("escalation_worker").handle_batch(
        records, partial_batch_response=get_settings().escalation_partial_batch_response
    )


@app.on_kinesis_record(
    stream=_ingest_settings.card_events_stream, batch_size=_ingest_settings.card_events_batch_size,
    starting_position="TRIM_HORIZON", name="card_events",
)
def card_events(event):
    """Card authorisations, declines, settlements, reversals and refunds (chalicelib/fraud/stream.py).
    Returns the partial-batch response: the mapping needs FunctionResponseTypes [ReportBatchItemFailures]."""
    from chalicelib.fraud.service import handle_kinesis_event

    return handle_kinesis_event(event.to_dict(), root.get("card_events"))


@app.route("/chat", methods=["GET"])
def chat_page():
    return Response(body=_local_channel().page(), status_code=200, headers={"Content-Type": "text/html; charset=utf-8"})


def _chat_call(call):
    """The local web chat's JSON routes: parse, call the container's web chat, map its errors."""
    from chatbot.webchat import ChatError

    chat = _local_channel()
    try:
        body = app.current_request.json_body
    except BadRequestError:
        raise BadRequestError("body must be valid JSON") from None
    try:
        return call(chat, body)
    except ChatError as exc:
        return Response(body={"error": str(exc)}, status_code=exc.status)


@app.route("/api/chat", methods=["POST"], content_types=["application/json"])
def chat_turn():
    return _chat_call(lambda chat, body: chat.turn(body))


@app.route("/api/chat/open", methods=["POST"], content_types=["application/json"])
def chat_open():
    """A signed-in customer opened the chat: the assistant may speak first (a held payment)."""
    return _chat_call(lambda chat, body: chat.open(body))


@app.route("/api/health", methods=["GET"])
def health():
    return {"status": "ok"}


from chatbot.agent_routes import agent_routes  # noqa: E402  (the agent REST API, chatbot/agent_routes.py)

app.register_blueprint(agent_routes)

from chatbot.console.pages import console_routes  # noqa: E402  (the local agent console, chatbot/console/)

app.register_blueprint(console_routes)
