"""The anti-corruption layer: the notifications service's history and preferences, written into
the legacy tables.

Once the service sends mail (``strangler flags set mail new``) and serves preferences, the
monolith must still list every mail and honour every choice: it may serve
``/api/notifications`` again after a rollback. This consumer reads
``strangler.notifications`` as its own group, skips what the monolith published itself, and
applies the service's records to ``notifications`` and ``notification_preferences`` with
plain SQL, by the version rule of ``strangler_migration.conflicts``, keeping the service's
version and origin. It bypasses the monolith's services on purpose: a copied mail is never
sent again, and a copied change never comes back as the monolith's.
"""

from __future__ import annotations

from strangler_contracts.notification_records import NOTIFICATION_RECORDS
from strangler_eventing import BrokerConfig
from strangler_migration import Side, SyncConsumer
from strangler_persistence import SessionFactory

from legacy_monolith.models import ORIGIN, inbox
from legacy_monolith.notifications_sync.records import BINDINGS

__all__ = ["notification_changes"]


def notification_changes(
    broker: BrokerConfig, group: str, sessions: SessionFactory
) -> SyncConsumer:
    """The consumer that applies the service's history and preferences to the legacy tables."""
    return SyncConsumer(
        Side(ORIGIN),
        NOTIFICATION_RECORDS,
        BINDINGS,
        group=group,
        broker=broker,
        sessions=sessions,
        inbox=inbox,
    )
