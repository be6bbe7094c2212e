"""The anti-corruption layer: the billing service's changes, written into the legacy tables.

While both sides serve billing (canary), a customer may subscribe or pay at the billing
service; the monolith must still show it. This consumer reads ``strangler.billing`` as its
own group, skips what the monolith published itself, and applies the billing service's
changes to ``subscriptions``, ``invoices``, ``payments`` and ``refunds`` with plain SQL — by
the version rule of ``strangler_migration.conflicts``, keeping the billing service's version
and origin. It bypasses the monolith's services on purpose: they would send e-mails and
record events, and a change the billing service made must not come back as the monolith's.
"""

from __future__ import annotations

from strangler_contracts.records import BILLING_RECORDS
from strangler_eventing import BrokerConfig
from strangler_migration import Side, SyncConsumer
from strangler_persistence import SessionFactory

from legacy_monolith.billing_sync.records import SYNCED_BINDINGS
from legacy_monolith.models import ORIGIN, inbox

__all__ = ["billing_changes"]


def billing_changes(broker: BrokerConfig, group: str, sessions: SessionFactory) -> SyncConsumer:
    """The consumer that applies the billing service's changes to the legacy tables."""
    return SyncConsumer(
        Side(ORIGIN),
        BILLING_RECORDS,
        SYNCED_BINDINGS,
        group=group,
        broker=broker,
        sessions=sessions,
        inbox=inbox,
    )
