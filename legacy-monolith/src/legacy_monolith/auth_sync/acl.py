"""The anti-corruption layer: the auth service's account changes, written into ``users``.

While both sides serve accounts (canary), a person may register, change their password or
their name at auth; the monolith must still know them — its billing and notifications read
``users``, and its login must take the new password. This consumer reads
``strangler.credentials`` as its own group, skips what the monolith published itself, and
applies auth's changes to ``users`` with plain SQL, by the version rule of
``strangler_migration.conflicts``, keeping auth's version and origin. It bypasses the
accounts service on purpose: that would mail a welcome again and publish the change as the
monolith's own.
"""

from __future__ import annotations

from strangler_contracts.user_records import USER_RECORDS
from strangler_eventing import BrokerConfig
from strangler_migration import Side, SyncConsumer
from strangler_persistence import SessionFactory

from legacy_monolith.auth_sync.records import BINDINGS
from legacy_monolith.models import ORIGIN, inbox

__all__ = ["auth_changes"]


def auth_changes(broker: BrokerConfig, group: str, sessions: SessionFactory) -> SyncConsumer:
    """The consumer that applies the auth service's account changes to ``users``."""
    return SyncConsumer(
        Side(ORIGIN),
        USER_RECORDS,
        BINDINGS,
        group=group,
        broker=broker,
        sessions=sessions,
        inbox=inbox,
    )
