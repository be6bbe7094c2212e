"""Every setting of the billing service, read once from ``BILLING_*`` environment variables."""

from __future__ import annotations

from typing import Literal

from http_platform.settings import SignedInUserSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict

__all__ = ["BillingSettings"]


class BillingSettings(SignedInUserSettings):
    """``BILLING_*``; the body limits and the operator token are ``ServiceSettings``', the
    trusted tokens (``JWT_SECRET``, ``AUTH_JWKS_URL`` …) ``SignedInUserSettings``'."""

    model_config = SettingsConfigDict(env_prefix="BILLING_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./.strangler/data/billing.db"

    payment_provider_url: str = "http://127.0.0.1:8009"
    payment_timeout_seconds: float = Field(default=10.0, gt=0)

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
    registrations_enabled: bool = Field(
        default=True,
        description="Consume UserRegistered events into customers from this process.",
    )
    consumer_group: str = "billing"

    monolith_url: str = Field(
        default="http://127.0.0.1:8001",
        description="The monolith, whose /internal/billing export the backfill reads.",
    )
    backfill_page_size: int = Field(default=200, ge=1, le=1000)
    legacy_sync_enabled: bool = Field(
        default=False,
        description="Apply the monolith's billing changes (its events on strangler.billing) "
        "from this process; `strangler up` turns it on.",
    )
    legacy_sync_group: str = "billing.legacy-sync"

    sagas_enabled: bool = Field(
        default=True,
        description="Drive checkout sagas from this process; on start it resumes those a "
        "stopped or crashed process left in flight.",
    )
    choreography_view_enabled: bool = Field(
        default=False,
        description="Keep the events of account closures (a choreography) and serve where "
        "each stands at /internal/choreographies, for `strangler sagas`; `strangler up` "
        "turns it on.",
    )
    choreography_group: str = "billing.choreographies"
    closure_participant_deadline_seconds: float = Field(
        default=300.0,
        gt=0,
        description="How long a participant of an account closure may take once due before "
        "the closure shows as stuck.",
    )
    saga_poll_seconds: float = Field(default=1.0, gt=0)
    saga_max_concurrent: int = Field(
        default=8,
        ge=1,
        description="Sagas this process drives at once. Each holds one of the database pool's "
        "connections while a step runs: fewer than the pool has, so requests still find one.",
    )
    saga_lease_seconds: float = Field(
        default=15.0,
        gt=0,
        description="How long a saga stays with its worker unless renewed (a heartbeat renews "
        "it while an attempt runs): a crashed worker's sagas are resumed after that.",
    )
    checkout_payment_timeout_seconds: float = Field(
        default=45.0,
        gt=0,
        description="How long a checkout waits for the provider's answer to a charge: longer "
        "than its card network takes to time out, so a timeout it declares ends the attempt.",
    )
    checkout_charge_attempts: int = Field(
        default=3,
        ge=1,
        description="Charge attempts (same idempotency key) before a checkout gives up.",
    )
    checkout_compensation_attempts: int = Field(default=10, ge=1)
    checkout_retry_seconds: float = Field(
        default=1.0, ge=0, description="The first wait between attempts; it doubles each time."
    )
