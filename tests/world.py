"""A seeded demo world shared by conversation, hook and web tests (see tests/conftest.py)."""
from __future__ import annotations

from datetime import date, datetime, timezone

ANCHOR = date(2026, 11, 18)  # a Wednesday: "last Tuesday", "yesterday" are stable in transcripts
NOW = datetime(2026, 11, 18, 15, 0, tzinfo=timezone.utc)
TEST_KEY = "test-identity-key-0123456789abcdef0123456789abcdef"


class World:
    """SQLite store with the demo data, a fixed clock, the real hook, and the emulator playing Lex."""

    def __init__(self, tmp_path):
        from chalicelib.demo.demo_data import seed
        from chalicelib.identity import REQUEST_ATTRIBUTE, LocalOutboxSender, TokenSigner, latest_local_code
        from chalicelib.storage.sqlite import SqliteStore
        from chalicelib.core.settings import Settings
        from chatbot.bootstrap import build_services

        self.settings = Settings(sqlite_path=tmp_path / "world.db", identity_key=TEST_KEY, outbox_dir=tmp_path / "outbox",
                                 otp_outbox_path=tmp_path / "outbox.log")
        self.store = SqliteStore(self.settings.sqlite_path)
        self.store.create_schema()
        seed(self.store, anchor=ANCHOR)
        self.now = NOW
        self.services, self.resolver = build_services(self.settings, store=self.store, clock=lambda: self.now,
                                                      otp_sender=LocalOutboxSender(self.settings.otp_outbox_path))
        self.signer = TokenSigner.from_settings(self.settings)
        self.token_attr = REQUEST_ATTRIBUTE
        self._latest = latest_local_code

    def token(self, customer: str) -> dict[str, str]:
        return {self.token_attr: self.signer.mint(customer, channel="web")}

    def hook(self, event, budget_s: float = 20) -> dict:
        from chatbot.hook import handle_lex_event

        return handle_lex_event(event, self.services, self.resolver, budget_s=budget_s)

    def emulator(self, customer: str | None = None, session_id: str | None = None):
        from chatbot.emulator import LexEmulator
        from intents.registry import all_specs

        attrs = self.token(customer) if customer else {}
        return LexEmulator(self.hook, all_specs(), session_id=session_id, request_attributes=attrs,
                           today=lambda: self.now, use_classifier=False)

    def latest_code(self, customer_id: str) -> str | None:
        return self._latest(self.settings.otp_outbox_path, customer_id)
