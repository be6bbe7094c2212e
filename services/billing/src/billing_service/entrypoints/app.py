"""The HTTP process: ``create_app`` builds everything inside the lifespan.

Besides the API it runs loops in the background, like every producer and consumer of events
here: the outbox relay, which publishes billing's events, the consumer that turns
registrations into customers, and the saga orchestrator, which drives checkouts and, on
start, resumes those a stopped or crashed process left in flight.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from http_platform import (
    BodySizeLimitMiddleware,
    NulCharacterGuard,
    ReadinessCheck,
    health_router,
    install_problem_handlers,
    mount_metrics,
)
from http_platform.openapi import install_problem_openapi
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from sqlalchemy import text
from strangler_eventing import (
    BrokerConfig,
    CorrelationMiddleware,
    OutboxRelay,
    configure_tracing,
    create_producer,
)
from strangler_migration import ExportSource, HttpExportSource, SqlRecords
from strangler_persistence import create_engine, create_session_factory, utcnow
from strangler_sagas import SagaOrchestrator
from strangler_sagas.routes import sagas_router

from billing_service.adapters.events import SOURCE
from billing_service.adapters.orm import outbox
from billing_service.adapters.records import BINDINGS
from billing_service.bootstrap import bootstrap
from billing_service.entrypoints import checkout
from billing_service.entrypoints.consumer import consume_registrations, registrations
from billing_service.entrypoints.identity import TokenVerifier
from billing_service.entrypoints.migration import (
    legacy_backfill,
    legacy_changes,
    migration_router,
    records,
)
from billing_service.entrypoints.problems import install_billing_problems
from billing_service.entrypoints.routes import router
from billing_service.service_layer.handlers import Clock
from billing_service.service_layer.payment_provider import PaymentProvider
from billing_service.settings import BillingSettings

__all__ = ["SERVICE_NAME", "broker_config", "create_app"]

SERVICE_NAME = "billing"

logger = logging.getLogger(__name__)


def broker_config(settings: BillingSettings) -> BrokerConfig:
    return BrokerConfig(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        kind=settings.kafka_kind,
        client_id=SERVICE_NAME,
    )


def create_app(
    settings: BillingSettings | None = None,
    *,
    payments: PaymentProvider | None = None,
    clock: Clock = utcnow,
    legacy_export: ExportSource | None = None,
) -> FastAPI:
    """Build the app; settings come from ``BILLING_*`` when not given. Connects only on start.

    ``payments`` replaces the payment simulator's client (tests reach an in-process one);
    ``legacy_export`` the client of the monolith's export that the backfill reads.
    """
    resolved = settings or BillingSettings()
    background: dict[str, asyncio.Task[None]] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(resolved.database_url)
        sessions = create_session_factory(engine)
        billing = bootstrap(resolved, sessions, payments=payments, clock=clock)
        app.state.engine = engine
        app.state.billing = billing
        stop = asyncio.Event()
        broker = broker_config(resolved)
        if resolved.outbox_relay_enabled:
            relay = OutboxRelay(engine, outbox, create_producer(broker), SOURCE)
            background["outbox-relay"] = _started(relay.run(stop), "outbox-relay")
        if resolved.registrations_enabled:
            consumer = registrations(broker, resolved.consumer_group, sessions)
            background["registrations"] = _started(
                consume_registrations(consumer, stop), "registrations"
            )
        owned_export: HttpExportSource | None = None
        export = legacy_export
        if export is None:
            export = owned_export = HttpExportSource(f"{resolved.monolith_url}/internal/billing")
        app.state.billing_records = SqlRecords(engine, BINDINGS)
        app.state.legacy_backfill = legacy_backfill(export, sessions, resolved.backfill_page_size)
        app.state.legacy_sync = None
        if resolved.legacy_sync_enabled:
            app.state.legacy_sync = legacy_changes(broker, resolved.legacy_sync_group, sessions)
            background["legacy-sync"] = _started(app.state.legacy_sync.run(stop), "legacy-sync")
        if resolved.sagas_enabled:
            background["sagas"] = _started(billing.sagas.run(stop), "sagas")
        try:
            yield
        finally:
            stop.set()
            if background:
                await asyncio.wait(background.values())
            background.clear()
            if owned_export is not None:
                await owned_export.aclose()
            await billing.aclose()
            await engine.dispose()

    async def database_answers() -> None:
        async with app.state.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def registrations_consumed() -> None:
        task = background.get("registrations")
        if task is not None and task.done():
            raise RuntimeError("the registrations consumer stopped")

    async def sagas_driven() -> None:
        task = background.get("sagas")
        if task is not None and task.done():
            raise RuntimeError("the saga orchestrator stopped")

    async def legacy_sync_runs() -> None:
        task = background.get("legacy-sync")
        if task is not None and task.done():
            raise RuntimeError("the legacy sync consumer stopped")

    checks: dict[str, ReadinessCheck] = {"database": database_answers}
    if resolved.registrations_enabled:
        checks["registrations"] = registrations_consumed
    if resolved.legacy_sync_enabled:
        checks["legacy-sync"] = legacy_sync_runs
    if resolved.sagas_enabled:
        checks["sagas"] = sagas_driven

    configure_tracing(SERVICE_NAME)
    app = FastAPI(
        title="Billing",
        summary="Plans, subscriptions, invoices, payments and refunds, out of the monolith.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.tokens = TokenVerifier(resolved.jwt_secret.get_secret_value(), resolved.jwt_issuer)
    install_problem_handlers(app)
    install_problem_openapi(app)
    install_billing_problems(app)
    app.add_middleware(NulCharacterGuard)
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=resolved.max_body_bytes,
        body_timeout=resolved.body_timeout_seconds,
    )
    app.add_middleware(CorrelationMiddleware)
    app.include_router(health_router(SERVICE_NAME, checks))
    mount_metrics(app)
    app.include_router(router)
    app.include_router(checkout.router)
    app.include_router(sagas_router(_sagas))
    app.include_router(records)
    app.include_router(migration_router)
    FastAPIInstrumentor.instrument_app(app, excluded_urls="/health/.*,/metrics")
    return app


def _sagas(request: Request) -> SagaOrchestrator:
    orchestrator: SagaOrchestrator = request.app.state.billing.sagas
    return orchestrator


def _started(loop: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
    """A background loop whose failure is logged the moment it happens."""
    task = asyncio.create_task(loop, name=name)
    task.add_done_callback(_log_failure)
    return task


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        logger.error("%s stopped: %r", task.get_name(), error, exc_info=error)
