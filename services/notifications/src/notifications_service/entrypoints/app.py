"""The HTTP process: ``create_app`` builds the app; its lifespan builds the process's root
(``bootstrap.bootstrap_process``) and runs the background loops under one supervisor.

The loops: the consumer of the events that cause mail (``mail-events``), the mail sender
(``mail-sender``) and, beside it, the erasure of a closed account's data once its farewell
went out (``erase-after-farewell``), and the outbox relay, which publishes
``NotificationSent`` and the dead letters of mails the SMTP server refused. A loop that dies
is logged, restarted with a backoff, and named on ``/health/ready`` until it runs again.
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
from strangler_persistence import utcnow

from notifications_service.adapters.store import SOURCE
from notifications_service.adapters.tables import outbox
from notifications_service.bootstrap import (
    SERVICE_NAME,
    NotificationsProcess,
    bootstrap_process,
    broker_config,
)
from notifications_service.entrypoints.account_closure import erasing_after_farewells
from notifications_service.entrypoints.consumer import consume_events, mail_events
from notifications_service.entrypoints.migration import migration_routers
from notifications_service.entrypoints.problems import install_notifications_problems
from notifications_service.entrypoints.routes import router
from notifications_service.service_layer.ports import Clock, Mailer, SendingSwitch
from notifications_service.settings import NotificationsSettings

__all__ = ["SERVICE_NAME", "create_app"]


def _loops(process: NotificationsProcess) -> dict[str, Loop]:
    settings = process.settings
    broker = broker_config(settings)
    loops: dict[str, Loop] = {}
    if settings.outbox_relay_enabled:

        async def relay(stop: asyncio.Event) -> None:
            await OutboxRelay(process.engine, outbox, create_producer(broker), SOURCE).run(stop)

        loops["outbox-relay"] = relay
    if settings.consumer_enabled:

        async def consume(stop: asyncio.Event) -> None:
            await consume_events(mail_events(process, broker), stop)

        loops["mail-events"] = consume
    if settings.sender_enabled:
        loops["mail-sender"] = process.sender.run
        loops["erase-after-farewell"] = erasing_after_farewells(process)
    if process.legacy_sync is not None:
        loops["legacy-sync"] = process.legacy_sync.run
    return loops


def create_app(
    settings: NotificationsSettings | None = None,
    *,
    mailer: Mailer | None = None,
    switch: SendingSwitch | None = None,
    clock: Clock = utcnow,
) -> ServiceApp[NotificationsProcess]:
    """Build the app; settings come from ``NOTIFICATIONS_*`` when not given. Connects only
    on start. ``mailer`` replaces the SMTP mailer, ``switch`` the sending setting."""
    resolved = settings or NotificationsSettings()

    async def database_answers() -> None:
        async with app.root.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    configure_tracing(SERVICE_NAME)
    app: ServiceApp[NotificationsProcess] = service_app(
        resolved,
        component=SERVICE_NAME,
        root=lambda: bootstrap_process(resolved, mailer=mailer, switch=switch, clock=clock),
        loops=_loops,
        checks={"database": database_answers},
        middleware=[CorrelationMiddleware],
        title="Notifications",
        summary="The e-mails, sent from events, exactly once in effect.",
        version="0.1.0",
    )
    install_notifications_problems(app)
    app.include_router(router)
    for internal in migration_routers(lambda: app.root):
        app.include_internal(internal)
    return app
