"""The gateway's own problem types (its admin API); the proxy's are the platform's."""

from __future__ import annotations

from http_platform.problem_catalogue import ProblemCatalogue

__all__ = ["GATEWAY_PROBLEMS", "ROUTE_BORN_NEW", "SIDE_EFFECT_MODE", "UNKNOWN_ROUTE"]

GATEWAY_PROBLEMS = ProblemCatalogue("gateway")
UNKNOWN_ROUTE = GATEWAY_PROBLEMS.define(
    "unknown-route", "Unknown route", 404, "The admin API names a route the table does not have."
)
ROUTE_BORN_NEW = GATEWAY_PROBLEMS.define(
    "route-born-new",
    "Route has no legacy side",
    409,
    "A flag change for a route born in its service: it is always served by new.",
)
SIDE_EFFECT_MODE = GATEWAY_PROBLEMS.define(
    "side-effect-mode",
    "Side effect is legacy or new",
    422,
    "A side-effect flag (`mail`) is done by one side: `legacy` or `new`, never shadow or canary.",
)
