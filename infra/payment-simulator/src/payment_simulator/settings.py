"""Configuration of the payment simulator, read from ``PAYSIM_*`` environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PAYSIM_")

    hang_seconds: float = Field(default=30.0, ge=0, description="How long the hanging card hangs")
    latency_ms: int = Field(default=0, ge=0, description="Delay added to every charge")
    max_body_bytes: int = Field(default=64 * 1024, gt=0)
    state_path: Path | None = Field(
        default=None,
        description="SQLite file keeping the ledger and every idempotency key across restarts "
        "(strangler up: .strangler/data/payment-simulator.db); unset: memory, lost on exit",
    )
