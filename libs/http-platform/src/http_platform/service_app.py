"""The app every deployable starts from, and the composition root it holds.

A deployable (the monolith, billing, and auth and notifications next) writes only what is
its own:

- ``class BillingSettings(ServiceSettings)`` (``http_platform.settings``) with its env
  prefix: the limits and the operator token are the same on every process;
- ``bootstrap.py``, the composition root, building one object (the *root*) from settings;
- ``create_app``: ``service_app(settings, component=, root=, loops=)`` gives a
  :class:`ServiceApp` with problem documents, the door (``http_platform.door``: NUL, body
  size and time, relative redirects, in one ASGI layer),
  ``/health/*`` (with the loops), ``/metrics``; its lifespan builds the root, runs the
  background loops under one supervisor (``http_platform.loops``) and closes the root::

      app = service_app(
          settings,
          component="billing",
          root=lambda: bootstrap_process(settings),
          loops=lambda process: {"outbox-relay": ..., "sagas": process.billing.sagas.run},
          title="Billing",
      )

- routes read the root through a dependency, never from string keys on ``app.state``:
  ``root_of(request, Bootstrapped).billing``, or a closure over ``app`` for a router built
  by a factory (``sagas_router(lambda: app.root.billing.sagas)``);
- ``/internal/*`` routers go through ``app.include_internal(router)``: operator token only;
- the CLI: ``http_platform.cli.deployable_cli`` gives ``prepare | migrate | serve``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import Any, Final, Generic, Protocol, TypeVar, cast

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.telemetry import TelemetryConfig
from pydantic import SecretStr
from starlette.types import ASGIApp

from http_platform.door import RequestDoor
from http_platform.health import ReadinessCheck, health_router
from http_platform.loops import Loop, LoopSupervisor
from http_platform.metrics import mount_metrics
from http_platform.openapi import install_problem_openapi, problem_responses
from http_platform.operator import operator_credential
from http_platform.problems import install_problem_handlers
from http_platform.settings import ServiceSettings

__all__ = ["ServiceApp", "root_of", "service_app"]

R = TypeVar("R")

NO_FASTAPI_TELEMETRY: Final[TelemetryConfig] = {"tracing": False, "metrics": False, "logs": False}
"""FastAPI's own OpenTelemetry layer stays off: it would build a span per request and one per
dependency, endpoint and serialisation as soon as a tracer provider is installed. The trace
of a request is the correlation middleware's (``strangler_eventing``), a span only when spans
are exported."""


class ServiceApp(FastAPI, Generic[R]):
    """A FastAPI app holding the root its bootstrap built, while its lifespan runs."""

    def __init__(
        self, *, operator_token: SecretStr | None = None, root: R | None = None, **options: Any
    ) -> None:
        """``root``: for an app whose root is built with it (no connections to open);
        otherwise the lifespan gives it with ``composed``. Without ``operator_token`` the app
        serves no internal endpoint."""
        super().__init__(**options)
        self._root = root
        self._operator = None if operator_token is None else operator_credential(operator_token)

    @property
    def root(self) -> R:
        """What ``bootstrap`` built; only while the app runs (inside its lifespan)."""
        if self._root is None:
            raise RuntimeError("the app is not started: its lifespan builds the root")
        return self._root

    @contextlib.contextmanager
    def composed(self, root: R) -> Iterator[R]:
        """Hold ``root`` for the routes while the block runs."""
        self._root = root
        try:
            yield root
        finally:
            self._root = None

    def include_internal(self, router: APIRouter) -> None:
        """Serve ``router`` (``/internal/*``) to callers with the operator token only."""
        if self._operator is None:
            raise RuntimeError("an app without an operator token serves no internal endpoint")
        self.include_router(
            router,
            dependencies=[Depends(self._operator)],
            responses=problem_responses(401, 403),
        )


def root_of(request: Request, kind: type[R]) -> R:
    """The root of the app serving ``request``, checked to be a ``kind``."""
    app = request.app
    if not isinstance(app, ServiceApp):
        raise TypeError(f"{type(app).__name__} is not a ServiceApp: it holds no root")
    root = app.root
    if not isinstance(root, kind):
        raise TypeError(f"the app's root is a {type(root).__name__}, not a {kind.__name__}")
    return root


class ClosableRoot(Protocol):
    """A root that releases what it opened (engine, clients) when the app stops."""

    async def aclose(self) -> None: ...


C = TypeVar("C", bound=ClosableRoot)


def _no_loops(_: object) -> Mapping[str, Loop]:
    return {}


def service_app(
    settings: ServiceSettings,
    *,
    component: str,
    root: Callable[[], C],
    loops: Callable[[C], Mapping[str, Loop]] = _no_loops,
    checks: Mapping[str, ReadinessCheck] | None = None,
    middleware: Sequence[Callable[..., ASGIApp]] = (),
    **options: Any,
) -> ServiceApp[C]:
    """The app every deployable starts from; ``options`` go to FastAPI (title, version …).

    Its lifespan builds the root (``root()``, the deployable's bootstrap), holds it for the
    routes, runs ``loops(root)`` under one ``LoopSupervisor`` (named on ``/health/ready``,
    counted in ``/metrics``), and on the way out stops the loops, then closes the root.
    ``middleware`` wraps everything else, outermost first (correlation ids, tracing), so
    the door's refusals carry what it adds; the door (``RequestDoor``) is the one layer
    inside it, before FastAPI's own.
    """
    supervisor = LoopSupervisor(component)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        built = root()
        try:
            with app.composed(built):
                async with supervisor.running(loops(built)):
                    yield
        finally:
            await built.aclose()

    options.setdefault("telemetry", NO_FASTAPI_TELEMETRY)
    app: ServiceApp[C] = ServiceApp(
        operator_token=settings.operator_token, lifespan=lifespan, **options
    )
    install_problem_handlers(app)
    install_problem_openapi(app)
    app.add_middleware(
        RequestDoor,
        max_bytes=settings.max_body_bytes,
        body_timeout=settings.body_timeout_seconds,
    )
    for outer in reversed(middleware):
        app.add_middleware(cast(Any, outer))
    app.include_router(health_router(component, checks, loops=supervisor))
    mount_metrics(app)
    return app
