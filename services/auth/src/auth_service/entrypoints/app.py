"""The HTTP process: ``create_app`` builds the app; its lifespan builds the process's root
(``bootstrap.bootstrap_process``) and makes sure a signing key and a next key exist."""

from __future__ import annotations

import httpx
from http_platform.service_app import ServiceApp, service_app
from sqlalchemy import text
from strangler_persistence import utcnow

from auth_service.bootstrap import SERVICE_NAME, AuthProcess, bootstrap_process
from auth_service.entrypoints.keys import internal_keys_router, jwks_router
from auth_service.entrypoints.migration import migration_loops, migration_routers
from auth_service.entrypoints.problems import install_auth_problems
from auth_service.entrypoints.routes import router
from auth_service.service_layer.ports import Clock, PasswordHashing
from auth_service.settings import AuthSettings

__all__ = ["SERVICE_NAME", "create_app"]


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
        loops=migration_loops,
        checks={"database": database_answers},
        title="Auth",
        summary="Accounts, passwords and access tokens, out of the monolith.",
        version="0.1.0",
    )
    install_auth_problems(app)
    app.include_router(router)
    app.include_router(jwks_router)
    app.include_internal(internal_keys_router(lambda: app.root.keyring))
    for internal in migration_routers(lambda: app.root):
        app.include_internal(internal)
    return app
