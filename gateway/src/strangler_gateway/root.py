"""The gateway's composition root: what its two faces read while they serve.

``create_app`` (app.py) builds it once from the settings. The admin API reads it through
``root_of(request, GatewayRoot)``, as every service's routes read theirs; nothing is kept
under string keys on ``app.state``.
"""

from __future__ import annotations

from dataclasses import dataclass

from http_platform.loops import LoopSupervisor
from pydantic import SecretStr

from strangler_gateway.edge_auth import EdgeAuth
from strangler_gateway.routes import RouteTable
from strangler_gateway.shadow import Shadow
from strangler_gateway.store import FlagStore
from strangler_gateway.upstreams import UpstreamPool

__all__ = ["GatewayRoot"]


@dataclass(frozen=True, slots=True)
class GatewayRoot:
    """The route table, the flags, the shadow figures, the upstream pool, the background
    loops' supervisor, the admin token guarding ``/_strangler/*`` and the edge verification
    (None when the gateway has no keys to verify with)."""

    routes: RouteTable
    store: FlagStore
    shadow: Shadow
    pool: UpstreamPool
    loops: LoopSupervisor
    admin_token: SecretStr
    edge_auth: EdgeAuth | None = None
