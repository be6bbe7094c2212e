"""What billing parity is judged by, declared once: the gateway's shadow rules for the
``billing`` route, what only an independent run adds to them, and the differences that are
meant.

The base is never restated here: it is read from the gateway's route table
(``default_routes`` → the ``billing`` route → ``shadow.compare``), ``GATEWAY_ROUTES`` tuning
included, so the parity suite and the gateway's shadow diff cannot drift apart
(``tests/unit/gateway/test_sharing_billing_rules_with_parity.py`` holds them together).
"""

from __future__ import annotations

from pydantic import SecretStr
from strangler_gateway.comparison import CompareRules
from strangler_gateway.routes import RouteTable, default_routes
from strangler_gateway.settings import GatewaySettings

from tests.support.parity import Expected, ParityException, ParityRules

__all__ = [
    "CLOCKS",
    "EXCEPTIONS",
    "billing_parity_rules",
    "billing_route_rules",
    "parity_gateway_settings",
]

# Only an independent run needs these: in shadow, billing holds the monolith's records synced
# by events, with the monolith's instants; here each side stamps its own records. A value is
# replaced by its shape (``<instant+00:00>``), so null against a time still differs.
CLOCKS: dict[str, str] = {
    "**/current_period_start": "a subscription starts when each side handles the request",
    "**/current_period_end": "a month after that side's start",
    "**/cancelled_at": "each side cancels at its own moment",
    "**/period_start": "an invoice covers its own side's subscription period",
    "**/period_end": "an invoice covers its own side's subscription period",
    "**/issued_at": "each side issues the invoice at its own moment",
    "**/paid_at": "each side settles the payment at its own moment",
}

# Ids each side generates (subscriptions, invoices, payments, refunds, provider charges) are
# neither ignored nor declared here: the script captures them per side and compares them by
# alias (see tests/support/parity.py), wherever they appear — bodies, problem ``detail``s,
# ``instance`` paths, extension members.

# Differences that are meant. Each is checked as exactly that difference, never ignored.
EXCEPTIONS: dict[str, ParityException] = {
    # The monolith shares its users table; billing learns of users by events, so it cannot
    # refuse a validly signed token for a user it has never heard of. Subscribing is refused
    # with the retryable customer-unknown (the registration may be on its way); reading
    # answers the empty lists of a customer without records. Documented in the service README.
    "list-subscriptions-as-a-user-billing-never-heard-of": ParityException(
        "billing cannot tell an unknown user from one whose registration is still in flight",
        legacy=Expected(401, "unauthenticated"),
        new=Expected(200),
    ),
    "subscribe-as-a-user-billing-never-heard-of": ParityException(
        "billing answers the retryable customer-unknown instead of 401",
        legacy=Expected(401, "unauthenticated"),
        new=Expected(409, "customer-unknown"),
    ),
    # The monolith refuses a token issued before the user's last password change; billing
    # holds no accounts data to know when that was (entrypoints/identity.py). Closing the gap
    # belongs to the auth extraction.
    "list-invoices-with-a-token-older-than-the-password": ParityException(
        "billing does not know when the password last changed",
        legacy=Expected(401, "unauthenticated"),
        new=Expected(200),
    ),
}


def parity_gateway_settings() -> GatewaySettings:
    """The gateway's settings as a deployed gateway reads them (``GATEWAY_*``); the admin
    token, required there, plays no part in the rules."""
    return GatewaySettings(admin_token=SecretStr("parity-suite"))


def billing_route_rules(settings: GatewaySettings) -> CompareRules:
    """The comparison rules the gateway's shadow diff applies to ``/api/billing``."""
    route = RouteTable(default_routes(settings)).named("billing")
    if route is None:
        raise LookupError("the gateway's route table has no 'billing' route")
    return route.shadow.compare


def billing_parity_rules(settings: GatewaySettings | None = None) -> ParityRules:
    """The gateway's billing rules, with the clocks and exceptions of an independent run."""
    return ParityRules(
        compare=billing_route_rules(settings or parity_gateway_settings()),
        clocks=tuple(CLOCKS),
        exceptions=EXCEPTIONS,
    )
