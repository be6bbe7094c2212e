"""The composition root: settings → route table, flag store, upstream pool, proxy, admin API."""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Receive, Scope, Send
from strangler_persistence import create_engine

from strangler_gateway.admin import ADMIN_PREFIX, create_admin_app
from strangler_gateway.breaker import CircuitBreaker
from strangler_gateway.proxy import ProxyApp, UpstreamPool
from strangler_gateway.rollback import RollbackWatch
from strangler_gateway.routes import RouteTable, default_routes
from strangler_gateway.settings import GatewaySettings
from strangler_gateway.shadow import Shadow
from strangler_gateway.sql_store import SqlFlagStore
from strangler_gateway.store import FlagStore

__all__ = ["GatewayApp", "create_app"]

logger = logging.getLogger(__name__)


class GatewayApp:
    """``/_strangler/*``, ``/health/*`` and ``/metrics`` go to the admin app; the rest is proxied.

    It answers the ASGI lifespan itself: the upstream pool opens on startup and closes on
    shutdown, so nothing connects at import time.
    """

    def __init__(
        self, proxy: ProxyApp, admin: ASGIApp, pool: UpstreamPool, store: FlagStore, shadow: Shadow
    ) -> None:
        self._shadow = shadow
        self._proxy = proxy
        self._admin = admin
        self._pool = pool
        self._store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        path: str = scope.get("path", "")
        if path.startswith((ADMIN_PREFIX + "/", "/health/")) or path == "/metrics":
            await self._admin(scope, receive, send)
        else:
            await self._proxy(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self._store.start()
                    await self._pool.start()
                except Exception as exc:
                    logger.exception("gateway failed to start")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self._shadow.close()
                await self._pool.close()
                await self._store.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def create_app(
    settings: GatewaySettings | None = None, flag_source: FlagStore | None = None
) -> GatewayApp:
    """Build the gateway: flags from its database unless a ``flag_source`` is given (tests)."""
    settings = settings or GatewaySettings()
    routes = RouteTable(default_routes(settings))
    store = flag_source or SqlFlagStore(create_engine(settings.database_url))
    pool = UpstreamPool(
        routes.upstreams(),
        connect_timeout=settings.connect_timeout_seconds,
        read_timeout=settings.read_timeout_seconds,
        breaker=lambda: CircuitBreaker(
            settings.breaker_threshold, settings.breaker_cooldown_seconds
        ),
    )
    shadow = Shadow()
    rollback = RollbackWatch()
    proxy = ProxyApp(
        routes,
        store,
        pool,
        shadow,
        rollback,
        max_body_bytes=settings.max_body_bytes,
        max_header_bytes=settings.max_header_bytes,
        client_body_timeout=settings.client_body_timeout_seconds,
    )
    admin = create_admin_app(routes, store, shadow, settings.admin_token.get_secret_value())
    return GatewayApp(proxy, admin, pool, store, shadow)
