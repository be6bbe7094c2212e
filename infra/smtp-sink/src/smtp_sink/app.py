"""Composition root of the SMTP sink: one process, one event loop, SMTP and HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from http_platform import health_router, install_problem_handlers
from http_platform.openapi import install_problem_openapi
from http_platform.service_app import ServiceApp

from smtp_sink import api
from smtp_sink.bootstrap import Sink, bootstrap
from smtp_sink.settings import Settings

__all__ = ["app", "create_app"]


def create_app(settings: Settings | None = None) -> ServiceApp[Sink]:
    """The HTTP app; its lifespan starts and stops the SMTP listener with it."""
    sink = bootstrap(settings or Settings())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await sink.listener.start()
        try:
            yield
        finally:
            await sink.listener.stop()

    app: ServiceApp[Sink] = ServiceApp(root=sink, title="SMTP sink", lifespan=lifespan)
    install_problem_handlers(app)
    install_problem_openapi(app)
    app.include_router(health_router("smtp-sink", {"smtp": sink.listener.check}))
    app.include_router(api.router)
    return app


app = create_app()
