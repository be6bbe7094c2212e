"""The monolith's composition root: ``create_app`` builds everything inside the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from http_platform import BodySizeLimitMiddleware, health_router, install_problem_handlers
from sqlalchemy import text

from legacy_monolith.accounts.api import router as accounts_router
from legacy_monolith.billing.api import router as billing_router
from legacy_monolith.billing.payment_provider import HttpPaymentProvider, PaymentProvider
from legacy_monolith.database import create_engine, create_session_factory
from legacy_monolith.notifications.api import router as notifications_router
from legacy_monolith.notifications.mailer import Mailer, SmtpMailer
from legacy_monolith.runtime import Runtime
from legacy_monolith.security import PasswordHashing, TokenIssuer
from legacy_monolith.settings import MonolithSettings

__all__ = ["build_runtime", "create_app"]


def build_runtime(
    settings: MonolithSettings,
    *,
    payments: PaymentProvider | None = None,
    mailer: Mailer | None = None,
) -> Runtime:
    """Real adapters by default; tests pass fakes for the provider and the mailer."""
    engine = create_engine(settings.database_url)
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

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = (runtime_factory or build_runtime)(resolved)
        app.state.runtime = runtime
        try:
            yield
        finally:
            await runtime.payments.aclose()
            await runtime.engine.dispose()

    async def database_answers() -> None:
        runtime: Runtime = app.state.runtime
        async with runtime.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    app = FastAPI(
        title="Legacy monolith",
        summary="Accounts, billing and notifications in one app and one database.",
        version="5.4.0",
        lifespan=lifespan,
    )
    install_problem_handlers(app)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=resolved.max_body_bytes)
    app.include_router(health_router("legacy-monolith", {"database": database_answers}))
    app.include_router(accounts_router)
    app.include_router(billing_router)
    app.include_router(notifications_router)
    return app
