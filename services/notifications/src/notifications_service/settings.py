"""Every setting of the notifications service, read once from ``NOTIFICATIONS_*`` variables."""

from __future__ import annotations

from typing import Literal

from http_platform.settings import SignedInUserSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict

__all__ = ["NotificationsSettings"]


class NotificationsSettings(SignedInUserSettings):
    """``NOTIFICATIONS_*``; the body limits and the operator token are ``ServiceSettings``', the
    trusted tokens (``JWT_SECRET``, ``AUTH_JWKS_URL`` …) ``SignedInUserSettings``'."""

    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./.strangler/data/notifications.db"

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_kind: Literal["tansu", "kafka"] = Field(
        default="tansu", description="'kafka' turns on the idempotent producer."
    )
    kafka_fetch_max_wait_ms: int = Field(
        default=50, ge=1, description="How long a consumer's fetch waits for data (README)."
    )
    outbox_relay_enabled: bool = Field(
        default=True, description="Publish the outbox from this process (off in unit tests)."
    )
    consumer_enabled: bool = Field(
        default=True,
        description="Consume the events that cause mail (accounts, billing) from this process.",
    )
    consumer_group: str = "notifications"

    sending: Literal["flag", "on", "off"] = Field(
        default="flag",
        description="Which mails this service sends: 'flag', those the mail flag gave it (the "
        "monolith marks each causing event with the side that sends, `strangler flags set "
        "mail new|legacy`); 'on', every one; 'off', none (the monolith sends them inline).",
    )
    monolith_url: str = Field(
        default="http://127.0.0.1:8001",
        description="The monolith, whose /internal/notifications export the backfill reads.",
    )
    backfill_page_size: int = Field(default=200, ge=1, le=1000)
    legacy_sync_enabled: bool = Field(
        default=False,
        description="Apply the monolith's history and preferences (its events on "
        "strangler.notifications) from this process; `strangler up` turns it on.",
    )
    legacy_sync_group: str = "notifications.legacy-sync"
    sender_enabled: bool = Field(
        default=True, description="Deliver pending mails from this process (the mail sender)."
    )
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    mail_sender: str = Field(
        default="Strangler Fig <no-reply@strangler-fig.dev>",
        description="The From header, the monolith's.",
    )
    message_id_domain: str = Field(
        default="notifications.strangler-fig.dev",
        description="The right-hand side of every Message-ID this service writes.",
    )
    smtp_connections: int = Field(
        default=4,
        ge=1,
        le=32,
        description="Mails handed over at once, each on an SMTP connection of its own: also "
        "how many mails a crash can leave accepted by the server but not yet recorded.",
    )
    send_batch_size: int = Field(default=50, ge=1, le=1000)
    send_poll_seconds: float = Field(
        default=0.2, gt=0, description="How often the sender looks for due mail when idle."
    )
    send_lease_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How long a mail the sender took stays its own: a sender that crashed "
        "mid-send has its mails taken again (same Message-ID) after that.",
    )
    retry_first_seconds: float = Field(
        default=1.0, gt=0, description="The first wait after a transient SMTP failure."
    )
    retry_max_seconds: float = Field(
        default=60.0, gt=0, description="Waits double per attempt up to this; never given up."
    )
