"""Who publishes and who consumes each contract event, declared once.

The AsyncAPI document is generated from this table. Extracting a capability is a change
here: a service that starts consuming an event adds itself to ``consumers``; a service that
takes over publishing replaces the monolith in ``producers``. Events are listed by ``name``,
so the entry holds across versions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from strangler_contracts.base import IntegrationEvent
from strangler_contracts.events import (
    AccountClosed,
    AccountClosureRefundDeclined,
    AccountClosureRequested,
    BillingClosedForAccount,
    FarewellSentAndDataErased,
    InvoiceIssued,
    NotificationPreferencesChanged,
    NotificationSent,
    PasswordChanged,
    PaymentFailed,
    PaymentSucceeded,
    RefundIssued,
    SubscriptionActivated,
    SubscriptionCancelled,
    SubscriptionStarted,
    UserAccountChanged,
    UserProfileChanged,
    UserRegistered,
)

__all__ = [
    "AUTH",
    "BILLING",
    "CATALOGUE",
    "LEGACY_MONOLITH",
    "NOTIFICATIONS",
    "NotInCatalogue",
    "Participants",
    "participants",
]

LEGACY_MONOLITH = "legacy-monolith"
BILLING = "billing"
AUTH = "auth"
NOTIFICATIONS = "notifications"


@dataclass(frozen=True)
class Participants:
    """The deployables that publish one event, and those that consume it."""

    producers: tuple[str, ...]
    consumers: tuple[str, ...] = ()


_BOTH_SIDES_OF_BILLING = Participants(
    producers=(LEGACY_MONOLITH, BILLING), consumers=(LEGACY_MONOLITH, BILLING)
)
_BOTH_SIDES_OF_NOTIFICATIONS = Participants(
    producers=(LEGACY_MONOLITH, NOTIFICATIONS), consumers=(LEGACY_MONOLITH, NOTIFICATIONS)
)

CATALOGUE: Mapping[str, Participants] = MappingProxyType(
    {
        # Auth is being extracted: a registration, a password change or a profile change is
        # published by whichever side served it; the whole record, hash included, crosses
        # between the two on strangler.credentials only (strangler_contracts.user_records).
        UserRegistered.name: Participants(producers=(LEGACY_MONOLITH, AUTH), consumers=(BILLING,)),
        PasswordChanged.name: Participants(producers=(LEGACY_MONOLITH, AUTH)),
        UserProfileChanged.name: Participants(
            producers=(LEGACY_MONOLITH, AUTH), consumers=(BILLING,)
        ),
        UserAccountChanged.name: Participants(
            producers=(LEGACY_MONOLITH, AUTH), consumers=(LEGACY_MONOLITH, AUTH)
        ),
        # Billing is being extracted: both sides publish billing's events while both serve,
        # and each applies the other's (two-way sync: strangler_contracts.records).
        SubscriptionStarted.name: _BOTH_SIDES_OF_BILLING,
        SubscriptionCancelled.name: _BOTH_SIDES_OF_BILLING,
        InvoiceIssued.name: _BOTH_SIDES_OF_BILLING,
        PaymentSucceeded.name: _BOTH_SIDES_OF_BILLING,
        PaymentFailed.name: _BOTH_SIDES_OF_BILLING,
        RefundIssued.name: _BOTH_SIDES_OF_BILLING,
        # Only the billing service checks out (its checkout saga); the monolith never did.
        SubscriptionActivated.name: Participants(
            producers=(BILLING,), consumers=(LEGACY_MONOLITH,)
        ),
        # Notifications is being extracted: both sides publish what they handled, with the
        # whole record, and each applies the other's (strangler_contracts.notification_records).
        NotificationSent.name: _BOTH_SIDES_OF_NOTIFICATIONS,
        NotificationPreferencesChanged.name: _BOTH_SIDES_OF_NOTIFICATIONS,
        # Closing an account is a choreography (events/account_closure.py): every participant
        # consumes what it reacts to and publishes its own outcome; nobody orchestrates. The
        # accounts side is the monolith's until auth publishes events; billing also keeps the
        # operators' view of every closure, so it reads all of them.
        AccountClosureRequested.name: Participants(
            producers=(LEGACY_MONOLITH,), consumers=(BILLING,)
        ),
        BillingClosedForAccount.name: Participants(
            producers=(BILLING,), consumers=(LEGACY_MONOLITH, NOTIFICATIONS)
        ),
        AccountClosureRefundDeclined.name: Participants(
            producers=(BILLING,), consumers=(LEGACY_MONOLITH, NOTIFICATIONS)
        ),
        FarewellSentAndDataErased.name: Participants(
            producers=(NOTIFICATIONS,), consumers=(LEGACY_MONOLITH, BILLING)
        ),
        AccountClosed.name: Participants(producers=(LEGACY_MONOLITH,), consumers=(BILLING,)),
    }
)


class NotInCatalogue(LookupError):
    """A contract event nobody declared a producer for."""


def participants(event: type[IntegrationEvent]) -> Participants:
    try:
        return CATALOGUE[event.name]
    except KeyError:
        raise NotInCatalogue(
            f"{event.name} is not in strangler_contracts.catalogue: declare who publishes it"
        ) from None
