"""The HTTP process: ``create_app`` builds the app; its lifespan builds the process's root
(``bootstrap.bootstrap_process``) and runs the background loops under one supervisor: the
data migration's (``entrypoints/migration.py``) and the housekeeping that drops expired
refresh tokens and ended login counts, and the accounts side of closing an account
(``entrypoints/closure.py``). The first signing keys are made by ``prepare`` (or by
the first request that needs one)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import httpx
from http_platform.loops import Loop
from http_platform.service_app import ServiceApp, service_app
from local_processes import stopped_within
from sqlalchemy import text
from strangler_persistence import utcnow

from auth_service.bootstrap import SERVICE_NAME, AuthProcess, bootstrap_process
from auth_service.entrypoints.closure import closure_loops, closure_router
from auth_service.entrypoints.keys import internal_keys_router, jwks_router
from auth_service.entrypoints.migration import migration_loops, migration_routers
from auth_service.entrypoints.problems import install_auth_problems
from auth_service.entrypoints.routes import router
from auth_service.service_layer.ports import Clock, PasswordHashing
from auth_service.settings import AuthSettings

__all__ = ["SERVICE_NAME", "create_app"]


def _loops(process: AuthProcess) -> Mapping[str, Loop]:
    async def housekeeping(stop: asyncio.Event) -> None:
        while True:
            await process.accounts.forget_the_past()
            if await stopped_within(stop, process.settings.housekeeping_seconds):
                return

    return {**migration_loops(process), **closure_loops(process), "housekeeping": housekeeping}


def create_app(
    settings: AuthSettings | None = None,
    *,
    passwords: PasswordHashing | None = None,
    clock: Clock = utcnow,
) -> ServiceApp[AuthProcess]:
    """Build the app; settings come from ``AUTH_*`` when not given. Connects only on start."""
    resolved = settings or AuthSettings()

    async def database_answers() -> None:
        async with app.root.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    app: ServiceApp[AuthProcess] = service_app(
        resolved,
        component=SERVICE_NAME,
        root=lambda: bootstrap_process(
            resolved,
            jwks=httpx.ASGITransport(app=app),
            passwords=passwords,
            clock=clock,
        ),
        loops=_loops,
        checks={"database": database_answers},
        title="Auth",
        summary="Accounts, passwords and access tokens, out of the monolith.",
        version="0.1.0",
    )
    install_auth_problems(app)
    app.include_router(router)
    app.include_router(closure_router)
    app.include_router(jwks_router)
    app.include_internal(internal_keys_router(lambda: app.root.keyring))
    for internal in migration_routers(lambda: app.root):
        app.include_internal(internal)
    return app
