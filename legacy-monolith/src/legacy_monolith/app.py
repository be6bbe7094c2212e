"""The monolith's composition root: ``create_app`` builds everything inside the lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from http_platform import (
    BodySizeLimitMiddleware,
    NulCharacterGuard,
    ReadinessCheck,
    health_router,
    install_problem_handlers,
    mount_metrics,
)
from http_platform.openapi import install_problem_openapi
from http_platform.redirects import RelativeRedirects
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from sqlalchemy import text
from strangler_eventing import (
    BrokerConfig,
    CorrelationMiddleware,
    OutboxRelay,
    configure_tracing,
    create_producer,
)
from strangler_migration import SqlRecords

from legacy_monolith.accounts.api import router as accounts_router
from legacy_monolith.billing.api import router as billing_router
from legacy_monolith.billing.payment_provider import HttpPaymentProvider, PaymentProvider
from legacy_monolith.billing_sync.acl import billing_changes
from legacy_monolith.billing_sync.api import router as billing_sync_router
from legacy_monolith.billing_sync.records import BINDINGS as BILLING_RECORDS
from legacy_monolith.database import create_engine, create_session_factory
from legacy_monolith.events import SOURCE
from legacy_monolith.models import outbox
from legacy_monolith.notifications.api import router as notifications_router
from legacy_monolith.notifications.mailer import Mailer, SmtpMailer
from legacy_monolith.runtime import Runtime
from legacy_monolith.security import PasswordHashing, TokenIssuer
from legacy_monolith.settings import MonolithSettings

__all__ = ["broker_config", "build_runtime", "create_app"]

SERVICE_NAME = "legacy-monolith"


def broker_config(settings: MonolithSettings) -> BrokerConfig:
    return BrokerConfig(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        kind=settings.kafka_kind,
        client_id=SERVICE_NAME,
    )


def build_runtime(
    settings: MonolithSettings,
    *,
    payments: PaymentProvider | None = None,
    mailer: Mailer | None = None,
) -> Runtime:
    """Real adapters by default; tests pass fakes for the provider and the mailer."""
    engine = create_engine(
        settings.database_url,
        pool_size=settings.database_pool_size,
        pool_overflow=settings.database_pool_overflow,
        pool_timeout_seconds=settings.database_pool_timeout_seconds,
    )
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=create_session_factory(engine),
        tokens=TokenIssuer(
            settings.jwt_secret.get_secret_value(),
            settings.jwt_issuer,
            settings.access_token_ttl_seconds,
        ),
        passwords=PasswordHashing(),
        payments=payments
        or HttpPaymentProvider(settings.payment_provider_url, settings.payment_timeout_seconds),
        mailer=mailer
        or SmtpMailer(
            settings.smtp_host,
            settings.smtp_port,
            settings.mail_sender,
            settings.smtp_timeout_seconds,
        ),
    )


def create_app(
    settings: MonolithSettings | None = None,
    *,
    runtime_factory: Callable[[MonolithSettings], Runtime] | None = None,
) -> FastAPI:
    """Build the app; settings come from ``MONOLITH_*`` when not given. Connects only on start."""
    resolved = settings or MonolithSettings()
    background: dict[str, asyncio.Task[None]] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = (runtime_factory or build_runtime)(resolved)
        app.state.runtime = runtime
        stop = asyncio.Event()
        relay_task: asyncio.Task[None] | None = None
        if resolved.outbox_relay_enabled:
            relay = OutboxRelay(
                runtime.engine, outbox, create_producer(broker_config(resolved)), SOURCE
            )
            relay_task = asyncio.create_task(relay.run(stop), name="outbox-relay")
        app.state.billing_records = SqlRecords(runtime.engine, BILLING_RECORDS)
        app.state.billing_sync = None
        if resolved.billing_sync_enabled:
            app.state.billing_sync = billing_changes(
                broker_config(resolved), resolved.billing_sync_group, runtime.sessions
            )
            background["billing-sync"] = asyncio.create_task(
                app.state.billing_sync.run(stop), name="billing-sync"
            )
        try:
            yield
        finally:
            stop.set()
            if relay_task is not None:
                await relay_task
            if background:
                await asyncio.wait(background.values())
            background.clear()
            await runtime.payments.aclose()
            await runtime.engine.dispose()

    async def database_answers() -> None:
        runtime: Runtime = app.state.runtime
        async with runtime.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def billing_sync_runs() -> None:
        task = background.get("billing-sync")
        if task is not None and task.done():
            raise RuntimeError("the billing sync consumer stopped")

    checks: dict[str, ReadinessCheck] = {"database": database_answers}
    if resolved.billing_sync_enabled:
        checks["billing-sync"] = billing_sync_runs

    configure_tracing(SERVICE_NAME)
    app = FastAPI(
        title="Legacy monolith",
        summary="Accounts, billing and notifications in one app and one database.",
        version="5.4.0",
        lifespan=lifespan,
    )
    install_problem_handlers(app)
    install_problem_openapi(app)
    app.add_middleware(NulCharacterGuard)
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=resolved.max_body_bytes,
        body_timeout=resolved.body_timeout_seconds,
    )
    app.add_middleware(CorrelationMiddleware)
    app.add_middleware(RelativeRedirects)
    app.include_router(health_router(SERVICE_NAME, checks))
    mount_metrics(app)
    app.include_router(accounts_router)
    app.include_router(billing_router)
    app.include_router(notifications_router)
    app.include_router(billing_sync_router)
    FastAPIInstrumentor.instrument_app(app, excluded_urls="/health/.*,/metrics")
    return app
