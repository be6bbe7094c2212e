"""Configuration of the SMTP sink, read from ``SMTP_SINK_*`` environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SMTP_SINK_")

    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, ge=0, le=65535, description="0 picks a free port")
    max_messages: int = Field(default=1000, gt=0, description="Older messages are dropped")
    refused_domain: str = Field(
        default="refused.example",
        description="Mail to any address at this domain is refused for good (550), as a "
        "real server refuses an unknown mailbox: how a sender's permanent failures are tried.",
    )
