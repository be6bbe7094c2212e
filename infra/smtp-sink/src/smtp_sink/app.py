"""Composition root of the SMTP sink: one process, one event loop, SMTP and HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from http_platform import health_router, install_problem_handlers
from http_platform.openapi import install_problem_openapi

from smtp_sink import api
from smtp_sink.mailbox import Mailbox
from smtp_sink.settings import Settings
from smtp_sink.smtp_server import MailboxHandler, SmtpListener

__all__ = ["app", "create_app"]


def create_app(settings: Settings | None = None) -> FastAPI:
    """The HTTP app; its lifespan starts and stops the SMTP listener with it."""
    settings = settings or Settings()
    mailbox = Mailbox(settings.max_messages)
    listener = SmtpListener(MailboxHandler(mailbox), settings.smtp_host, settings.smtp_port)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await listener.start()
        try:
            yield
        finally:
            await listener.stop()

    app = FastAPI(title="SMTP sink", lifespan=lifespan)
    app.state.mailbox = mailbox
    app.state.smtp = listener
    install_problem_handlers(app)
    install_problem_openapi(app)
    app.include_router(health_router("smtp-sink", {"smtp": listener.check}))
    app.include_router(api.router)
    return app


app = create_app()
