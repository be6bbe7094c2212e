"""The strangler gateway: routes each public request to the monolith or a new service by flag.

The names below load on first use: ``strangler-gateway migrate`` runs on every
``strangler up`` and should not import the proxy, the admin app and their web stack first.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from strangler_flags import Decision, Mode, RequestFacts, RouteFlag, Target, decide

    from strangler_gateway.app import create_app
    from strangler_gateway.settings import GatewaySettings
    from strangler_gateway.sql_store import SqlFlagStore
    from strangler_gateway.store import FlagState, FlagStore, InMemoryFlagStore

__all__ = [
    "Decision",
    "FlagState",
    "FlagStore",
    "GatewaySettings",
    "InMemoryFlagStore",
    "Mode",
    "RequestFacts",
    "RouteFlag",
    "SqlFlagStore",
    "Target",
    "create_app",
    "decide",
]

_HOMES = {
    **dict.fromkeys(("Decision", "Mode", "RequestFacts", "RouteFlag", "Target", "decide"),
                    "strangler_flags"),
    "create_app": "strangler_gateway.app",
    "GatewaySettings": "strangler_gateway.settings",
    "SqlFlagStore": "strangler_gateway.sql_store",
    **dict.fromkeys(("FlagState", "FlagStore", "InMemoryFlagStore"), "strangler_gateway.store"),
}  # fmt: skip


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
