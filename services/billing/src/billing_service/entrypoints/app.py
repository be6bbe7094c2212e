"""The HTTP process: ``create_app`` builds the app; its lifespan builds the process's root
(``bootstrap.bootstrap_process``) and runs the background loops under one supervisor.

The loops, like every producer and consumer of events here: the outbox relay, which
publishes billing's events; the consumer that turns registrations into customers; the
consumer applying the monolith's billing changes (when on); the saga orchestrator, which
drives checkouts and billing's part of account closures and, on start, resumes those a
stopped or crashed process left in flight; and the observer of account closures, which keeps
their events for the operators' view (``/internal/choreographies``). A loop that dies is
logged, restarted with a backoff, and named on ``/health/ready`` until it runs again.
"""

from __future__ import annotations

import asyncio

from http_platform.loops import Loop
from http_platform.service_app import ServiceApp, service_app
from sqlalchemy import text
from strangler_eventing import (
    CorrelationMiddleware,
    OutboxRelay,
    configure_tracing,
    create_producer,
)
from strangler_migration import ExportSource
from strangler_persistence import utcnow
from strangler_sagas.routes import choreographies_router, sagas_router

from billing_service.adapters.events import SOURCE
from billing_service.adapters.orm import outbox
from billing_service.bootstrap import (
    SERVICE_NAME,
    BillingProcess,
    bootstrap_process,
    broker_config,
)
from billing_service.entrypoints import checkout
from billing_service.entrypoints.account_closure import closure_requests
from billing_service.entrypoints.choreography_view import (
    choreography_observer,
    observe_choreographies,
)
from billing_service.entrypoints.consumer import consume_registrations, registrations
from billing_service.entrypoints.migration import migration_routers
from billing_service.entrypoints.problems import install_billing_problems
from billing_service.entrypoints.routes import router
from billing_service.service_layer.handlers import Clock
from billing_service.service_layer.payment_provider import PaymentProvider
from billing_service.settings import BillingSettings

__all__ = ["SERVICE_NAME", "create_app"]


def _loops(process: BillingProcess) -> dict[str, Loop]:
    settings = process.settings
    broker = broker_config(settings)
    loops: dict[str, Loop] = {}
    if settings.outbox_relay_enabled:

        async def relay(stop: asyncio.Event) -> None:
            await OutboxRelay(process.engine, outbox, create_producer(broker), SOURCE).run(stop)

        loops["outbox-relay"] = relay
    if settings.registrations_enabled:

        async def consume(stop: asyncio.Event) -> None:
            closures = closure_requests(lambda: process.billing)
            consumer = registrations(
                broker, settings.consumer_group, process.sessions, also=closures
            )
            await consume_registrations(consumer, stop)

        loops["registrations"] = consume
    if process.legacy_sync is not None:
        loops["legacy-sync"] = process.legacy_sync.run
    if settings.sagas_enabled:
        loops["sagas"] = process.billing.sagas.run
    if settings.choreography_view_enabled:

        async def observe(stop: asyncio.Event) -> None:
            definitions = process.choreographies.definitions
            observer = choreography_observer(
                broker,
                settings.choreography_group,
                process.sessions,
                process.choreography_log,
                definitions,
            )
            await observe_choreographies(observer, stop)

        loops["choreographies"] = observe
    return loops


def create_app(
    settings: BillingSettings | None = None,
    *,
    payments: PaymentProvider | None = None,
    clock: Clock = utcnow,
    legacy_export: ExportSource | None = None,
) -> ServiceApp[BillingProcess]:
    """Build the app; settings come from ``BILLING_*`` when not given. Connects only on start.

    ``payments`` replaces the payment simulator's client (tests reach an in-process one);
    ``legacy_export`` the client of the monolith's export that the backfill reads.
    """
    resolved = settings or BillingSettings()

    async def database_answers() -> None:
        async with app.root.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    configure_tracing(SERVICE_NAME)
    app: ServiceApp[BillingProcess] = service_app(
        resolved,
        component=SERVICE_NAME,
        root=lambda: bootstrap_process(
            resolved, payments=payments, clock=clock, legacy_export=legacy_export
        ),
        loops=_loops,
        checks={"database": database_answers},
        middleware=[CorrelationMiddleware],
        title="Billing",
        summary="Plans, subscriptions, invoices, payments and refunds, out of the monolith.",
        version="0.1.0",
    )
    install_billing_problems(app)
    app.include_router(router)
    app.include_router(checkout.router)
    app.include_internal(sagas_router(lambda: app.root.billing.sagas))
    app.include_internal(choreographies_router(lambda: app.root.choreographies))
    for internal in migration_routers(lambda: app.root):
        app.include_internal(internal)
    return app
