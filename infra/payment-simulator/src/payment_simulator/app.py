"""The payment simulator's HTTP app, over what ``bootstrap`` builds."""

from __future__ import annotations

from http_platform import (
    BodySizeLimitMiddleware,
    NulCharacterGuard,
    health_router,
    install_problem_handlers,
)
from http_platform.openapi import install_problem_openapi
from http_platform.service_app import ServiceApp

from payment_simulator import api
from payment_simulator.bootstrap import Simulator, bootstrap
from payment_simulator.problems import install_payment_problems
from payment_simulator.settings import Settings

__all__ = ["app", "create_app"]


def create_app(settings: Settings | None = None) -> ServiceApp[Simulator]:
    """The app, holding its simulator from the start (it opens nothing remote)."""
    settings = settings or Settings()
    app: ServiceApp[Simulator] = ServiceApp(
        root=bootstrap(settings),
        title="Payment simulator",
        summary="A card-payment provider sandbox. See payment_simulator.cards for test cards.",
    )
    install_problem_handlers(app)
    install_problem_openapi(app)
    install_payment_problems(app)
    app.add_middleware(NulCharacterGuard)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.include_router(health_router("payment-simulator"))
    app.include_router(api.router)
    return app


app = create_app()
