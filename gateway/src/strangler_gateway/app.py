"""The composition root: settings → route table, flag store, upstream pool, proxy, admin API.

The gateway has two faces, served on two listeners of one process (listeners.py):

- ``public``: the public entry. ``/health/*`` answers there (the runner and load balancers
  probe it); every other path is the proxy's, so ``/_strangler/…`` and ``/metrics`` are paths
  no route serves — a 404 problem, like any unknown path.
- ``operator``: the admin API ``/_strangler/*`` (bearer token), ``/metrics`` and ``/health/*``,
  on a loopback port by default.

What both faces read is one ``GatewayRoot`` (root.py). The background loop — the flag poller
(``FlagStore.follow``) — runs under the kit's ``LoopSupervisor``: one that dies is logged,
started again with backoff, named on ``/health/ready`` and counted in ``/metrics``
(``strangler_loop_restarts_total{component="gateway"}``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from http_platform.heap import settle_heap
from http_platform.loops import Loop, LoopSupervisor
from starlette.types import ASGIApp, Receive, Scope, Send
from strangler_persistence import create_engine

from strangler_gateway.admin import create_admin_app
from strangler_gateway.auto_rollback import AutoRollback
from strangler_gateway.breaker import CircuitBreaker
from strangler_gateway.edge_auth import edge_auth
from strangler_gateway.forwarding import Forwarder
from strangler_gateway.locations import PublicLocations
from strangler_gateway.proxy import ProxyApp
from strangler_gateway.rollback import RollbackWatch
from strangler_gateway.root import GatewayRoot
from strangler_gateway.routes import RouteTable, default_routes
from strangler_gateway.settings import GatewaySettings
from strangler_gateway.shadow import Shadow
from strangler_gateway.sql_store import SqlFlagStore
from strangler_gateway.store import FlagStore
from strangler_gateway.targeting import HeaderTargeting
from strangler_gateway.upstreams import UpstreamPool

__all__ = ["Gateway", "PublicEntry", "create_app"]

logger = logging.getLogger(__name__)

# A flag poller that failed (its database unreachable) tries again at least this often, so
# flags changed meanwhile arrive soon after the database is back.
LOOP_MAX_BACKOFF_SECONDS = 5.0


class PublicEntry:
    """``/health/*`` to the admin app's health routes; everything else to the proxy.

    It answers the ASGI lifespan for the whole gateway: the flag store and the upstream pool
    open on startup, then the background loops start under the root's supervisor; on shutdown
    the loops stop first, then everything closes. Nothing connects at import time.
    """

    def __init__(self, proxy: ProxyApp, health: ASGIApp, root: GatewayRoot) -> None:
        self._proxy = proxy
        self._health = health
        self._root = root
        self._pool = root.pool
        self._store = root.store
        self._shadow = root.shadow

    def loops(self) -> Mapping[str, Loop]:
        """The gateway's background loops, by the name readiness and metrics give them."""
        return {"flag-poller": self._store.follow}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope.get("path", "").startswith("/health/"):
            await self._health(scope, receive, send)
        else:
            await self._proxy(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        background = contextlib.AsyncExitStack()
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self._store.start()
                    await self._pool.start()
                    await background.enter_async_context(self._root.loops.running(self.loops()))
                except Exception as exc:
                    logger.exception("gateway failed to start")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                settle_heap()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await background.aclose()
                await self._shadow.close()
                await self._pool.close()
                await self._store.close()
                if self._root.edge_auth is not None:
                    await self._root.edge_auth.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return


@dataclass(frozen=True, slots=True)
class Gateway:
    """The two faces of one gateway; serve ``public`` first: its lifespan starts them both."""

    public: PublicEntry
    operator: ASGIApp


def create_app(
    settings: GatewaySettings | None = None, flag_source: FlagStore | None = None
) -> Gateway:
    """Build the gateway: flags from its database unless a ``flag_source`` is given (tests)."""
    settings = settings or GatewaySettings()
    routes = RouteTable(default_routes(settings))
    store = flag_source or SqlFlagStore(create_engine(settings.database_url))
    pool = UpstreamPool(
        routes.upstreams(),
        connect_timeout=settings.connect_timeout_seconds,
        read_timeout=settings.read_timeout_seconds,
        connections_per_upstream=settings.upstream_connections,
        keepalive_seconds=settings.upstream_keepalive_seconds,
        breaker=lambda: CircuitBreaker(
            settings.breaker_threshold, settings.breaker_cooldown_seconds
        ),
        probe_path=settings.breaker_probe_path,
        probe_interval=settings.breaker_probe_interval_seconds,
    )
    shadow = Shadow()
    forwarder = Forwarder(
        pool,
        shadow,
        AutoRollback(store, RollbackWatch()),
        PublicLocations(routes.upstreams()),
        max_body_bytes=settings.max_body_bytes,
        client_body_timeout=settings.client_body_timeout_seconds,
    )
    targeting_token = settings.targeting_token
    edge = edge_auth(settings)
    proxy = ProxyApp(
        routes,
        store,
        forwarder,
        HeaderTargeting(targeting_token.get_secret_value() if targeting_token else None),
        max_body_bytes=settings.max_body_bytes,
        max_header_bytes=settings.max_header_bytes,
        edge_auth=edge,
    )
    root = GatewayRoot(
        routes, store, shadow, pool,
        LoopSupervisor("gateway", max_backoff=LOOP_MAX_BACKOFF_SECONDS), settings.admin_token,
        edge,
    )  # fmt: skip
    admin = create_admin_app(root)
    return Gateway(PublicEntry(proxy, admin, root), admin)
