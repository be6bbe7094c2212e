"""Everything the runner can be told, read from `STRANGLER_*` environment variables."""

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ENV_PREFIX", "Port", "RunnerSettings"]

ENV_PREFIX = "STRANGLER_"

Port = Annotated[int, Field(ge=1, le=65535)]


def _default_state_dir() -> Path:
    return Path.cwd() / ".strangler"


class RunnerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX)

    host: str = "127.0.0.1"
    state_dir: Path = Field(default_factory=_default_state_dir, validate_default=True)

    broker_port: Port = 9092
    monolith_port: Port = 8001
    gateway_port: Port = 8080
    gateway_admin_port: Port = 8081
    """The gateway's operator listener (admin API, metrics), on `host` like the rest."""
    auth_port: Port = 8002
    billing_port: Port = 8003
    notifications_port: Port = 8004
    payment_simulator_port: Port = 8009
    smtp_port: Port = 1025
    mail_ui_port: Port = 8025

    gateway_url: str | None = None
    """Where `flags`, `kill-switch` and `diffs` find the gateway's admin API: its operator
    listener (default: the gateway `strangler up` runs here, else
    http://STRANGLER_HOST:STRANGLER_GATEWAY_ADMIN_PORT)."""
    gateway_admin_token: SecretStr | None = None
    """Their bearer token (default: `admin_token` in the state dir's secrets.json)."""

    monolith_url: str | None = None
    billing_url: str | None = None
    """Where `migrate` finds the monolith and billing, and `sagas` finds billing (default:
    those `strangler up` runs here, else http://STRANGLER_HOST:<their port>)."""
    auth_url: str | None = None
    """Where `auth rotate-keys` finds the auth service (default: the one `strangler up` runs
    here, else http://STRANGLER_HOST:STRANGLER_AUTH_PORT)."""
    notifications_url: str | None = None
    """Where `migrate notifications` finds the notifications service (default: the one
    `strangler up` runs here, else http://STRANGLER_HOST:STRANGLER_NOTIFICATIONS_PORT)."""

    health_timeout_seconds: float = Field(default=60, gt=0)
    """How long a component may take to answer its health check (a bound for a loaded
    machine; `bench/startup.py` measures the time it takes)."""
    stop_timeout_seconds: float = Field(default=10, gt=0)

    @field_validator("state_dir")
    @classmethod
    def _absolute(cls, state_dir: Path) -> Path:
        return state_dir.expanduser().resolve()

    @property
    def broker_bootstrap_servers(self) -> str:
        """Where Kafka clients find the embedded broker: `host:port`."""
        return f"{self.host}:{self.broker_port}"

    @staticmethod
    def env_var(field_name: str) -> str:
        """The environment variable that sets `field_name`, for messages that tell people how."""
        return f"{ENV_PREFIX}{field_name.upper()}"
