"""Routing flags: the decision the gateway makes, its wire format, and an OpenFeature provider.

Shared by the gateway (which routes with ``decide``) and by any service that wants the same
answer through OpenFeature, without importing the gateway.
"""

from strangler_flags.decision import (
    BUCKETS,
    MAIL,
    SIDE_EFFECT_MODES,
    Decision,
    FlagState,
    Mode,
    RequestFacts,
    RouteFlag,
    Target,
    bucket_of,
    decide,
)
from strangler_flags.documents import flag_from_document, flag_to_document, state_from_flags_view
from strangler_flags.provider import PROVIDER_NAME, StranglerFlagProvider, openfeature_reason
from strangler_flags.sources import (
    FlagSource,
    FlagSourceUnavailable,
    GatewayFlagPoller,
    GatewayFlagSource,
    InMemoryFlagSource,
)

__all__ = [
    "BUCKETS",
    "MAIL",
    "PROVIDER_NAME",
    "SIDE_EFFECT_MODES",
    "Decision",
    "FlagSource",
    "FlagSourceUnavailable",
    "FlagState",
    "GatewayFlagPoller",
    "GatewayFlagSource",
    "InMemoryFlagSource",
    "Mode",
    "RequestFacts",
    "RouteFlag",
    "StranglerFlagProvider",
    "Target",
    "bucket_of",
    "decide",
    "flag_from_document",
    "flag_to_document",
    "openfeature_reason",
    "state_from_flags_view",
]
