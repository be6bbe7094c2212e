"""Every setting of the gateway, in one place, read from ``GATEWAY_*`` variables."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["GatewaySettings"]

MIB = 1024 * 1024


class GatewaySettings(BaseSettings):
    """Where the gateway listens, where its upstreams are, and how long it waits for them.

    ``admin_token`` has no default on purpose: a gateway that guards traffic switching with a
    well-known secret is worse than one that refuses to start.
    """

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)

    legacy_url: str = "http://127.0.0.1:8001"
    auth_url: str = "http://127.0.0.1:8002"
    billing_url: str = "http://127.0.0.1:8003"
    notifications_url: str = "http://127.0.0.1:8004"

    connect_timeout_seconds: float = Field(default=2.0, gt=0)
    read_timeout_seconds: float = Field(default=30.0, gt=0)
    max_body_bytes: int = Field(default=MIB, ge=0)
    max_header_bytes: int = Field(default=32 * 1024, ge=1024)
    breaker_threshold: int = Field(default=5, ge=1)
    breaker_cooldown_seconds: float = Field(default=5.0, gt=0)
    rollback_window_seconds: float = Field(default=30.0, gt=0)
    rollback_min_calls: int = Field(default=20, ge=1)
    rollback_max_error_rate: float = Field(default=0.2, ge=0, le=1)
    rollback_max_p99_seconds: float = Field(default=2.0, gt=0)

    database_url: str = "sqlite+aiosqlite:///./.strangler/data/gateway.db"
    admin_token: SecretStr
