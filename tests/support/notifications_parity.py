"""What notifications parity is judged by, declared once: the gateway's shadow rules for the
``notifications`` route (``default_routes``, ``GATEWAY_ROUTES`` tuning included), what only
an independent run adds to them, and the differences that are meant (none so far)."""

from __future__ import annotations

from strangler_gateway.comparison import CompareRules
from strangler_gateway.routes import RouteTable, default_routes
from strangler_gateway.settings import GatewaySettings

from tests.support.billing_parity import parity_gateway_settings
from tests.support.parity import ParityException, ParityRules

__all__ = ["CLOCKS", "EXCEPTIONS", "notifications_parity_rules", "notifications_route_rules"]

# Each side records a mail, sends it and stores preferences at its own moment. In shadow the
# service holds the monolith's records synced by the data migration, with its instants; here
# each side stamps its own. A value is replaced by its shape, so null against a time differs.
CLOCKS: dict[str, str] = {
    "**/created_at": "each side records the mail when it handles the registration",
    "**/sent_at": "each side's SMTP hand-over happens at its own moment",
    "**/updated_at": "each side stores the preferences at its own moment",
}

EXCEPTIONS: dict[str, ParityException] = {}


def notifications_route_rules(settings: GatewaySettings) -> CompareRules:
    """The comparison rules the gateway's shadow diff applies to ``/api/notifications``."""
    route = RouteTable(default_routes(settings)).named("notifications")
    if route is None:
        raise LookupError("the gateway's route table has no 'notifications' route")
    return route.shadow.compare


def notifications_parity_rules(settings: GatewaySettings | None = None) -> ParityRules:
    """The gateway's notifications rules, with the clocks of an independent run."""
    return ParityRules(
        compare=notifications_route_rules(settings or parity_gateway_settings()),
        clocks=tuple(CLOCKS),
        exceptions=EXCEPTIONS,
    )
