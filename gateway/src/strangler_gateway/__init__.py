"""The strangler gateway: routes each public request to the monolith or a new service by flag."""

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
