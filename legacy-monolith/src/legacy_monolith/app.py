"""The monolith's HTTP process: ``create_app`` builds the app; its lifespan builds the runtime
(``bootstrap.build_runtime``) and runs the background loops under one supervisor.

The loops: the outbox relay, which publishes the monolith's domain events, and (when on) the
billing, auth and notifications ACLs, which apply those services' changes to the legacy
tables, the accounts side of account closures (``account_closure``), and ``mail-flag``,
which follows the gateway's ``mail`` flag (who sends the mails). A loop that dies is logged,
restarted with a backoff, and named on ``/health/ready`` until it runs again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from http_platform.loops import Loop
from http_platform.service_app import ServiceApp, service_app
from sqlalchemy import text
from strangler_eventing import (
    CorrelationMiddleware,
    OutboxRelay,
    configure_tracing,
    create_producer,
)

from legacy_monolith.account_closure.api import router as account_closure_router
from legacy_monolith.account_closure.consumer import closure_answers, follow_closures
from legacy_monolith.accounts.api import router as accounts_router
from legacy_monolith.auth_sync.api import auth_records_router
from legacy_monolith.billing.api import router as billing_router
from legacy_monolith.billing_sync.api import billing_records_router
from legacy_monolith.bootstrap import SERVICE_NAME, broker_config, build_runtime
from legacy_monolith.events import SOURCE
from legacy_monolith.models import outbox
from legacy_monolith.notifications.api import router as notifications_router
from legacy_monolith.notifications_sync.api import notification_records_router
from legacy_monolith.runtime import Runtime
from legacy_monolith.settings import MonolithSettings

__all__ = ["build_runtime", "create_app"]

RuntimeFactory = Callable[[MonolithSettings], Runtime]


def _loops(runtime: Runtime) -> dict[str, Loop]:
    settings = runtime.settings
    loops: dict[str, Loop] = {}
    if settings.outbox_relay_enabled:

        async def relay(stop: asyncio.Event) -> None:
            producer = create_producer(broker_config(settings))
            await OutboxRelay(runtime.engine, outbox, producer, SOURCE).run(stop)

        loops["outbox-relay"] = relay
    if runtime.billing_sync is not None:
        loops["billing-sync"] = runtime.billing_sync.run
    if runtime.auth_sync is not None:
        loops["auth-sync"] = runtime.auth_sync.run
    if runtime.notifications_sync is not None:
        loops["notifications-sync"] = runtime.notifications_sync.run
    if runtime.mail_flag_poller is not None:
        loops["mail-flag"] = runtime.mail_flag_poller.run
    if settings.account_closure_enabled:

        async def follow(stop: asyncio.Event) -> None:
            answers = closure_answers(
                broker_config(settings), settings.account_closure_group, runtime.sessions
            )
            await follow_closures(answers, stop)

        loops["account-closure"] = follow
    return loops


def create_app(
    settings: MonolithSettings | None = None,
    *,
    runtime_factory: RuntimeFactory | None = None,
) -> ServiceApp[Runtime]:
    """Build the app; settings come from ``MONOLITH_*`` when not given. Connects only on start.

    ``runtime_factory`` replaces ``build_runtime`` (tests give fakes to it)."""
    resolved = settings or MonolithSettings()

    async def database_answers() -> None:
        async with app.root.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    configure_tracing(SERVICE_NAME)
    app: ServiceApp[Runtime] = service_app(
        resolved,
        component=SERVICE_NAME,
        root=lambda: (runtime_factory or build_runtime)(resolved),
        loops=_loops,
        checks={"database": database_answers},
        middleware=[CorrelationMiddleware],
        title="Legacy monolith",
        summary="Accounts, billing and notifications in one app and one database.",
        version="5.4.0",
    )
    app.include_router(accounts_router)
    app.include_router(account_closure_router)
    app.include_router(billing_router)
    app.include_router(notifications_router)
    app.include_internal(billing_records_router(lambda: app.root))
    app.include_internal(auth_records_router(lambda: app.root))
    app.include_internal(notification_records_router(lambda: app.root))
    return app
