"""Every setting of the auth service, read once from ``AUTH_*`` environment variables."""

from __future__ import annotations

from typing import Literal

from http_platform.settings import ServiceSettings
from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

__all__ = ["AuthSettings"]


class AuthSettings(ServiceSettings):
    """``AUTH_*``; the body limits and the operator token are ``ServiceSettings``'."""

    model_config = SettingsConfigDict(env_prefix="AUTH_", extra="ignore")

    database_url: str = Field(
        default="sqlite+aiosqlite:///./.strangler/data/auth.db",
        description="SQLite (embedded profile) or postgresql+asyncpg://… The users, refresh "
        "tokens, login throttling and the signing keys (private halves included) live here.",
    )

    issuer: str = Field(
        default="strangler-fig-auth", description="The iss of every access token auth issues."
    )
    audience: str = Field(
        default="strangler-fig", description="The aud of every access token auth issues."
    )
    access_token_ttl_seconds: int = Field(default=900, ge=30, le=24 * 3600)
    refresh_token_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=60)
    jwks_max_age_seconds: int = Field(
        default=300,
        ge=0,
        description="Cache-Control max-age of /.well-known/jwks.json: how long a verifier may "
        "keep the key set before it asks again.",
    )
    key_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="How long this process keeps the signing keys it read from the database "
        "(another process's rotation is seen within that time).",
    )

    legacy_jwt_secret: SecretStr | None = Field(
        default=None,
        description="The HMAC key the monolith signs its access tokens with: while routes "
        "move, auth accepts the monolith's tokens until they expire. Unset: it accepts none.",
    )
    legacy_jwt_issuer: str = "legacy-monolith"

    login_account_failures: int = Field(
        default=5, ge=1, description="Failed logins for one account within the window."
    )
    login_address_failures: int = Field(
        default=20, ge=1, description="Failed logins from one client address within the window."
    )
    login_window_seconds: int = Field(
        default=900, ge=1, description="The throttling window; a locked key waits it out."
    )
    housekeeping_seconds: float = Field(
        default=600,
        gt=0,
        description="How often expired refresh tokens and ended login counts are dropped.",
    )
    password_hash_concurrency: int = Field(
        default=2,
        ge=1,
        description="Password hashes computed at once (worker threads; 64 MiB each).",
    )
    trusted_proxies: list[str] = Field(
        default=["127.0.0.1", "::1"],
        description="Peers whose X-Forwarded-For names the client address (the gateway).",
    )

    # Moving accounts from the monolith (entrypoints/migration.py): events, backfill, sync.
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_kind: Literal["tansu", "kafka"] = Field(
        default="tansu", description="'kafka' turns on the idempotent producer."
    )
    kafka_fetch_max_wait_ms: int = Field(
        default=50, ge=1, description="How long a consumer's fetch waits for data (README)."
    )
    outbox_relay_enabled: bool = Field(
        default=False,
        description="Publish auth's outbox (account events) from this process; `strangler up` "
        "turns it on. Off, events wait in the outbox.",
    )
    monolith_url: str = Field(
        default="http://127.0.0.1:8001",
        description="The monolith whose account export the backfill reads (/internal/auth).",
    )
    backfill_page_size: int = Field(default=200, ge=1, le=1000)
    legacy_sync_enabled: bool = Field(
        default=False,
        description="Apply the monolith's account changes here (two-way sync); `strangler up` "
        "turns it on.",
    )
    legacy_sync_group: str = "auth.legacy-sync"
    account_closure_enabled: bool = Field(
        default=False,
        description="Follow account closures from this process: apply billing's and "
        "notifications' answers, then erase the account; `strangler up` turns it on.",
    )
    account_closure_group: str = "auth.account-closure"
