"""Composition root of the payment simulator."""

from __future__ import annotations

from fastapi import FastAPI
from http_platform import (
    BodySizeLimitMiddleware,
    NulCharacterGuard,
    health_router,
    install_problem_handlers,
)
from http_platform.openapi import install_problem_openapi

from payment_simulator import api
from payment_simulator.idempotency import IdempotencyStore
from payment_simulator.ledger import Ledger
from payment_simulator.problems import install_payment_problems
from payment_simulator.processor import PaymentProcessor
from payment_simulator.settings import Settings
from payment_simulator.storage import SimulatorDatabase

__all__ = ["app", "create_app"]


def create_app(settings: Settings | None = None) -> FastAPI:
    """A simulator on its ledger: the file ``settings.state_path`` (kept across restarts), or
    memory. Opening SQLite is local and instant, so it happens here, with no lifespan."""
    settings = settings or Settings()
    app = FastAPI(
        title="Payment simulator",
        summary="A card-payment provider sandbox. See payment_simulator.cards for test cards.",
    )
    database = SimulatorDatabase(settings.state_path)
    app.state.processor = PaymentProcessor(
        Ledger(database),
        hang_seconds=settings.hang_seconds,
        latency_seconds=settings.latency_ms / 1000,
    )
    app.state.idempotency = IdempotencyStore(database)
    install_problem_handlers(app)
    install_problem_openapi(app)
    install_payment_problems(app)
    app.add_middleware(NulCharacterGuard)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.include_router(health_router("payment-simulator"))
    app.include_router(api.router)
    return app


app = create_app()
