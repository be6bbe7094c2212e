"""Every setting of the gateway, in one place, read from ``GATEWAY_*`` variables."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["GatewaySettings", "RouteTuning"]

MIB = 1024 * 1024


class RouteTuning(BaseModel):
    """One route's shadow and rollback tuning; what is left out keeps the default.

    Given as JSON in ``GATEWAY_ROUTES``, keyed by route name, e.g.
    ``{"billing": {"ignore_fields": ["/items/*/id"], "rollback_max_error_rate": 0.05}}``.
    """

    model_config = ConfigDict(extra="forbid")

    ignore_fields: list[str] = Field(default_factory=list)
    unordered_fields: list[str] = Field(default_factory=list)
    compared_headers: list[str] | None = None
    mirror_writes: bool | None = None
    noise_sample_rate: float | None = Field(default=None, ge=0, le=1)
    rollback_window_seconds: float | None = Field(default=None, gt=0)
    rollback_min_calls: int | None = Field(default=None, ge=1)
    rollback_max_error_rate: float | None = Field(default=None, ge=0, le=1)
    rollback_max_p99_seconds: float | None = Field(default=None, gt=0)


class GatewaySettings(BaseSettings):
    """Where the gateway listens, where its upstreams are, and how long it waits for them.

    Two listeners: the public entry (``host``:``port``) serves the proxied API and
    ``/health/*``; the operator listener (``admin_host``:``admin_port``, loopback by default)
    serves the admin API ``/_strangler/*``, ``/metrics`` and ``/health/*``. Nothing of the
    operator surface answers on the public entry.

    ``admin_token`` has no default on purpose: a gateway that guards traffic switching with a
    well-known secret is worse than one that refuses to start. ``targeting_token`` unset (the
    default) turns ``X-Strangler-Target`` off (targeting.py). Edge verification (edge_auth.py)
    is on when the gateway is given keys: ``auth_jwks_url``, ``legacy_jwt_secret`` or both.
    """

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    admin_host: str = "127.0.0.1"
    admin_port: int = Field(default=8081, ge=0, le=65535)

    legacy_url: str = "http://127.0.0.1:8001"
    auth_url: str = "http://127.0.0.1:8002"
    billing_url: str = "http://127.0.0.1:8003"
    notifications_url: str = "http://127.0.0.1:8004"

    auth_jwks_url: str | None = Field(
        default=None, description="The auth service's JWKS: its tokens are verified at the edge."
    )
    auth_issuer: str = "strangler-fig-auth"
    legacy_jwt_secret: SecretStr | None = Field(
        default=None,
        description="The monolith's HMAC key: its tokens are verified at the edge too, while "
        "the session bridge lasts.",
    )
    legacy_jwt_issuer: str = "legacy-monolith"
    jwks_min_refetch_seconds: float = Field(
        default=10.0, gt=0, description="An unknown kid fetches the JWKS at most this often."
    )
    verified_token_cache_size: int = Field(default=10_000, ge=1)

    connect_timeout_seconds: float = Field(default=2.0, gt=0)
    read_timeout_seconds: float = Field(default=30.0, gt=0)
    # At most this many connections to each upstream, so its open descriptors have a ceiling;
    # a request beyond it waits for a free one. 32: bench/gateway.py's load is never queued.
    upstream_connections: int = Field(default=32, ge=1)
    # An idle pooled connection is closed after this long, before the upstream's own idle
    # timeout (uvicorn's 5 s) closes it under a request sent at the same moment.
    upstream_keepalive_seconds: float = Field(default=4.0, gt=0)
    max_body_bytes: int = Field(default=MIB, ge=0)
    max_header_bytes: int = Field(default=32 * 1024, ge=1024)
    # A client that declares a body and sends none of it is answered 408 this soon (issue 10.6).
    client_body_timeout_seconds: float = Field(default=10.0, gt=0)
    breaker_threshold: int = Field(default=5, ge=1)
    breaker_cooldown_seconds: float = Field(default=5.0, gt=0)
    breaker_probe_path: str = "/health/live"
    breaker_probe_interval_seconds: float = Field(default=1.0, gt=0)
    rollback_window_seconds: float = Field(default=30.0, gt=0)
    rollback_min_calls: int = Field(default=20, ge=1)
    rollback_max_error_rate: float = Field(default=0.2, ge=0, le=1)
    rollback_max_p99_seconds: float = Field(default=2.0, gt=0)
    routes: dict[str, RouteTuning] = Field(default_factory=dict)
    # A log line per proxied request costs ~100 µs of CPU (bench/gateway.py); off by default.
    access_log: bool = False

    database_url: str = "sqlite+aiosqlite:///./.strangler/data/gateway.db"
    admin_token: SecretStr
    targeting_token: SecretStr | None = None
