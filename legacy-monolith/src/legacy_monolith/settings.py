"""Every setting of the monolith, read once from ``MONOLITH_*`` environment variables."""

from __future__ import annotations

from typing import Literal

from http_platform.settings import SignedInUserSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict
from strangler_persistence import POOL_OVERFLOW, POOL_SIZE

__all__ = ["MonolithSettings"]


class MonolithSettings(SignedInUserSettings):
    """``MONOLITH_*``; the body limits, the operator token and the trusted tokens
    (``JWT_SECRET``, ``AUTH_JWKS_URL`` …) are ``SignedInUserSettings``'."""

    model_config = SettingsConfigDict(env_prefix="MONOLITH_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./.strangler/data/monolith.db"
    database_pool_size: int = Field(default=POOL_SIZE, ge=1, description="Connections kept")
    database_pool_overflow: int = Field(
        default=POOL_OVERFLOW, ge=0, description="Connections opened beyond the pool under load"
    )
    database_pool_timeout_seconds: float = Field(
        default=3.0, gt=0, description="Wait for a free connection this long, then answer 503"
    )
    # The monolith signs its own access tokens with jwt_secret and accepts auth's through
    # auth_bridge.py.
    access_token_ttl_seconds: int = 3600

    payment_provider_url: str = "http://127.0.0.1:8009"
    payment_timeout_seconds: float = 10.0

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_timeout_seconds: float = 5.0
    mail_sender: str = "Strangler Fig <no-reply@strangler-fig.dev>"

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
    billing_sync_enabled: bool = Field(
        default=False,
        description="Apply the billing service's changes to the legacy tables (the billing "
        "ACL) from this process; `strangler up` turns it on.",
    )
    billing_sync_group: str = "legacy-monolith.billing-sync"
    auth_sync_enabled: bool = Field(
        default=False,
        description="Apply the auth service's account changes to the legacy users (the auth "
        "ACL) from this process; `strangler up` turns it on.",
    )
    auth_sync_group: str = "legacy-monolith.auth-sync"
    account_closure_enabled: bool = Field(
        default=False,
        description="Follow account closures from this process: apply billing's and "
        "notifications' answers, then erase the account; `strangler up` turns it on.",
    )
    account_closure_group: str = "legacy-monolith.account-closure"
    notifications_sync_enabled: bool = Field(
        default=False,
        description="Apply the notifications service's mails and preferences to the legacy "
        "tables (the notifications ACL) from this process; `strangler up` turns it on.",
    )
    notifications_sync_group: str = "legacy-monolith.notifications-sync"
    mail_flag_url: str | None = Field(
        default=None,
        description="The gateway's operator listener, whose `mail` flag says who sends the "
        "mails (read with the operator token); unset, the monolith sends every mail itself. "
        "`strangler up` sets it.",
    )
    mail_flag_poll_seconds: float = Field(
        default=0.5, gt=0, description="How often the mail flag is read again."
    )
