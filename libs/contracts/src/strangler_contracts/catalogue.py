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
    InvoiceIssued,
    NotificationSent,
    PaymentFailed,
    PaymentSucceeded,
    RefundIssued,
    SubscriptionCancelled,
    SubscriptionStarted,
    UserRegistered,
)

__all__ = ["CATALOGUE", "LEGACY_MONOLITH", "NotInCatalogue", "Participants", "participants"]

LEGACY_MONOLITH = "legacy-monolith"


@dataclass(frozen=True)
class Participants:
    """The deployables that publish one event, and those that consume it."""

    producers: tuple[str, ...]
    consumers: tuple[str, ...] = ()


CATALOGUE: Mapping[str, Participants] = MappingProxyType(
    {
        UserRegistered.name: Participants(producers=(LEGACY_MONOLITH,)),
        SubscriptionStarted.name: Participants(producers=(LEGACY_MONOLITH,)),
        SubscriptionCancelled.name: Participants(producers=(LEGACY_MONOLITH,)),
        InvoiceIssued.name: Participants(producers=(LEGACY_MONOLITH,)),
        PaymentSucceeded.name: Participants(producers=(LEGACY_MONOLITH,)),
        PaymentFailed.name: Participants(producers=(LEGACY_MONOLITH,)),
        RefundIssued.name: Participants(producers=(LEGACY_MONOLITH,)),
        NotificationSent.name: Participants(producers=(LEGACY_MONOLITH,)),
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
