"""Settings, read once per container from the environment (prefix ``DA_``).

Why one object: handlers must not each read os.environ with their own defaults, and tests need a
single place to swap configuration (``get_settings.cache_clear()`` after changing the env).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]


class TableNames(BaseSettings):
    """DynamoDB table names (one table per aggregate; see docs/storage.md for keys and GSIs)."""

    model_config = SettingsConfigDict(env_prefix="DA_TABLE_", extra="ignore")

    customers: str = "da-customers"
    cards: str = "da-cards"
    transactions: str = "da-transactions"
    fraud_decisions: str = "da-fraud-decisions"
    cases: str = "da-cases"
    handoffs: str = "da-handoffs"
    verifications: str = "da-verifications"
    triage: str = "da-triage"
    decisions: str = "da-decisions"
    # Per-customer pseudonym keys of the decision log, kept apart from it: deleting a key
    # crypto-shreds the customer's link to the log (right to erasure) without breaking the chain.
    pseudonym_keys: str = "da-pseudonym-keys"
    idempotency: str = "da-idempotency"
    # Progressive rollout: guard observations and stage history shared by every container.
    rollout: str = "da-rollout"
    # What a turn that overran its budget did, kept for the session's next turn (chalicelib/storage/late_notes.py).
    late_notes: str = "da-late-notes"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DA_", extra="ignore")

    backend: Literal["sqlite", "dynamodb"] = "sqlite"
    sqlite_path: Path = Field(default=REPO_ROOT / ".data" / "assistant.db")
    region: str = "us-east-1"
    tables: TableNames = Field(default_factory=TableNames)
    # Where the decision log's head hash is anchored in AWS (locally: a file next to sqlite_path).
    decision_head_parameter: str = "/da/decision-log/head"

    # Identity tokens from authenticated channels (HMAC-SHA256). In AWS the key comes from
    # Secrets Manager (identity_key_secret_id); locally a development key is used.
    identity_key: SecretStr | None = None
    identity_key_secret_id: str | None = None
    identity_token_ttl_s: int = 900
    # The channels whose tokens this bot accepts (``aud``, comma-separated): a token minted for
    # another service with the same key is refused. The local emulator's "local" is added only
    # on the SQLite backend (chatbot/bootstrap.py).
    identity_token_audiences: str = "web,mobile,connect"
    # No token lives longer than this (exp - iat), whatever its issuer wrote: an exp in the year
    # 33658 is refused, not honoured.
    identity_token_max_lifetime_s: int = Field(default=3600, ge=60)

    # One-time code sends (SMS cost, harassment): per chat session over its life, and per customer
    # over a rolling hour across all sessions.
    otp_max_sends_per_session: int = Field(default=3, ge=1)
    otp_max_sends_per_customer_per_hour: int = Field(default=5, ge=1)

    # Step-up verification in chat.
    otp_ttl_s: int = 300
    max_verification_failures: int = 3
    lockout_s: int = 1800

    # Time budgets: Lex kills the code hook at 30 s; we answer far inside it.
    turn_budget_s: float = 8.0
    dependency_timeout_s: float = 2.0
    # How long the note about an overrun turn waits for the session's next turn (Lex keeps an idle
    # session for at most 24 h by default, so a note older than that has no turn left to open).
    late_note_ttl_s: int = Field(default=24 * 3600, ge=60)

    # Where the local console shows out-of-band one-time codes (the "SMS" of the local world).
    otp_outbox_path: Path = Field(default=REPO_ROOT / ".data" / "otp-outbox.log")

    # Dispute rules.
    dispute_window_days: int = 120

    # Comprehend tier (issue 3) and model artifacts.
    comprehend_enabled: bool = False
    model_dir: Path = Field(default=REPO_ROOT / "nlp" / "artifacts")

    # Email ingestion (SES -> S3 -> SQS -> email_ingest). The queue name is read when app.py is
    # imported (Chalice needs it at package time); it must be one of the names infra/functions.yaml
    # maps to EmailQueue. Events naming any bucket but raw_mail_bucket are refused.
    raw_mail_bucket: str = "da-raw-mail"
    email_queue_name: str = "da-email"
    email_batch_size: int = Field(default=5, ge=1, le=10)
    # true only when the event source mapping has FunctionResponseTypes [ReportBatchItemFailures]:
    # then failed records are returned in batchItemFailures (and reach the DLQ after maxReceiveCount)
    # instead of failing the whole invocation.
    email_partial_batch_response: bool = False
    email_max_bytes: int = 10 * 1024 * 1024
    email_escalate_urgency: float = Field(default=0.7, ge=0, le=1)
    s3_read_timeout_s: float = 10.0
    # The triage and redaction functions are handed to the email service by its entry point
    # (app.py, the email_ingest CLI): chalicelib does not import nlp, not even by name.

    # The one payment search (chalicelib/payments/search.py), the same for chat and email.
    payment_search_window_days: int = Field(default=180, ge=1)
    payment_search_amount_tolerance: float = Field(default=0.01, ge=0, lt=1)
    payment_search_min_merchant_score: float = Field(default=0.6, gt=0, le=1)
    # Where "last summer" falls: meteorological seasons of the customers' hemisphere.
    payment_search_hemisphere: Literal["north", "south"] = "north"

    # Card-event stream and fraud scoring (issue 12; chalicelib/fraud/). The stream name is read
    # when app.py is imported (Chalice needs it at package time).
    card_events_stream: str = "da-card-events"
    card_events_batch_size: int = Field(default=100, ge=1, le=10000)
    fraud_model: Literal["none", "sagemaker", "frauddetector"] = "none"
    fraud_model_mode: Literal["off", "shadow", "on"] = "shadow"
    fraud_model_floor: float = Field(default=0.3, ge=0, le=1)  # rules risk below this never calls the model
    fraud_model_timeout_s: float = 1.0
    fraud_model_max_attempts: int = Field(default=2, ge=1, le=5)
    fraud_sagemaker_endpoint: str = "da-fraud-scorer"
    fraud_detector_id: str = "da_card_fraud"
    fraud_detector_version: str | None = None
    fraud_event_type: str = "card_authorisation"
    notifier: Literal["outbox", "sns"] = "outbox"
    outbox_dir: Path = Field(default=REPO_ROOT / ".data" / "outbox")

    # Escalation tickets (chalicelib/tickets): table, per-queue SNS topics "<prefix>-<queue>", the
    # sender of customer emails, and locally the agents' bearer tokens as JSON
    # {"<token>": {"agent": "<id>", "role": "agent"|"supervisor", "queues": [...]}} (Cognito in AWS).
    tickets_table: str = "da-tickets"
    ticket_topic_arn_prefix: str = "arn:aws:sns:us-east-1:000000000000:da-tickets"
    email_sender: str = "disputes@dispute-assistant.example"
    # Domains of staff who forward customers' mail to the disputes inbox (branches, the call centre):
    # their forwards are not acknowledged. Anyone else who forwards mail to us (a customer forwarding a
    # merchant's receipt) wrote to us and is acknowledged (chalicelib/ingest/followup.py).
    email_colleague_domains: tuple[str, ...] = ()
    agent_tokens: SecretStr | None = None
    # In AWS: the agents' Cognito user pool; when set, the agent routes sit behind its authorizer.
    agent_user_pool_arn: str | None = None

    # The escalation queue (chalicelib/tickets/escalation*.py): chat and email put escalation requests
    # on it, the escalation_worker function opens the tickets. The name is read when app.py is
    # imported (infra/functions.yaml maps it to EscalationQueue); the URL is where producers send
    # (set by the template; unset on DynamoDB = the worker runs in line). Locally an SQLite queue
    # beside sqlite_path, drained in line, parks a message after escalation_max_receives failures
    # (the template's redrive maxReceiveCount is the same number).
    escalation_queue_name: str = "da-escalations"
    escalation_queue_url: str | None = None
    escalation_batch_size: int = Field(default=10, ge=1, le=10)
    # true only when the mapping has FunctionResponseTypes [ReportBatchItemFailures] (the merge sets both)
    escalation_partial_batch_response: bool = False
    escalation_max_receives: int = Field(default=5, ge=1, le=1000)

    # Chat transcripts for the agent's ticket (chalicelib/transcripts): redacted turns per hashed
    # session, kept this long (DynamoDB TTL in AWS; purged on write locally).
    transcripts_table: str = "da-transcripts"
    transcript_ttl_hours: int = Field(default=72, ge=1, le=24 * 30)

    # The local web chat (make run) can sign in as a demo customer: never enable it in AWS.
    local_channel: bool = False

    log_level: str = "INFO"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
