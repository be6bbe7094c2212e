"""Notifications' data as records: what the monolith and the notifications service migrate.

Two entities, parents first: ``preferences`` (keyed by the user id) and ``notifications``
(each e-mail handled: sent, failed or suppressed), with their ``version`` and ``origin``
(``strangler_contracts.records``) and the fields below, as both sides name their columns.

Each side publishes the whole record after each change — ``NotificationSent`` once a mail
is handled, ``NotificationPreferencesChanged`` when preferences are first recorded or
changed — so every change is complete: it creates the record or replaces it, in whatever
order the changes arrive, by the version rule. A mail the notifications service has not
handled yet (``pending``) stays its own until it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from strangler_contracts.base import IntegrationEvent
from strangler_contracts.events import NotificationPreferencesChanged, NotificationSent
from strangler_contracts.records import RecordChange, RecordContract

__all__ = [
    "NOTIFICATIONS",
    "NOTIFICATION_FIELDS",
    "NOTIFICATION_PRECEDENCE",
    "NOTIFICATION_RECORDS",
    "NOTIFICATION_SYNCED_EVENTS",
    "PREFERENCES",
    "notification_record_changes",
]

PREFERENCES: Final = "preferences"
NOTIFICATIONS: Final = "notifications"

NOTIFICATION_PRECEDENCE: Final = ("legacy-monolith", "notifications")
"""Who wins when both sides made the same version of one record concurrently (both recorded
a user's default preferences at once): the monolith, while it is the system of record."""

NOTIFICATION_SYNCED_EVENTS: Final[tuple[type[IntegrationEvent], ...]] = (
    NotificationPreferencesChanged,
    NotificationSent,
)

NOTIFICATION_FIELDS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        PREFERENCES: ("account_emails", "billing_emails", "updated_at"),
        NOTIFICATIONS: (
            "user_id",
            "kind",
            "category",
            "recipient",
            "subject",
            "body",
            "status",
            "error",
            "created_at",
            "sent_at",
        ),
    }
)
"""What both sides hold, and what reconciliation compares."""


def notification_record_changes(event: IntegrationEvent, origin: str) -> list[RecordChange]:
    """The record ``event`` carries, as a complete change made on side ``origin``.

    A ``NotificationSent`` written before two-way sync carries no version nor body and moves
    nothing: the backfill copies what it recorded."""
    if isinstance(event, NotificationPreferencesChanged):
        choices = {
            "account_emails": event.account_emails,
            "billing_emails": event.billing_emails,
            "updated_at": event.updated_at,
        }
        return [
            RecordChange(
                PREFERENCES, event.user_id, event.preferences_version, origin, choices, True
            )
        ]
    if isinstance(event, NotificationSent):
        if event.notification_version is None or event.body is None or event.category is None:
            return []
        fields = {
            "user_id": event.user_id,
            "kind": event.kind,
            "category": event.category,
            "recipient": event.recipient,
            "subject": event.subject,
            "body": event.body,
            "status": event.status,
            "error": event.error,
            "created_at": event.created_at or event.occurred_at,
            "sent_at": event.sent_at,
        }
        return [
            RecordChange(
                NOTIFICATIONS,
                event.notification_id,
                event.notification_version,
                origin,
                fields,
                complete=True,
            )
        ]
    return []


NOTIFICATION_RECORDS: Final = RecordContract(
    "notifications",
    NOTIFICATION_FIELDS,
    NOTIFICATION_SYNCED_EVENTS,
    notification_record_changes,
    NOTIFICATION_PRECEDENCE,
)
"""Notifications moving to its service: ``strangler migrate notifications``,
``/internal/notifications``."""
