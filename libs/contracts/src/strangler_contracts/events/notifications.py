"""Events of the notifications capability, on ``strangler.notifications``, keyed by user id.

While notifications is extracted, both the monolith and the notifications service publish
them, each for what it did (``origin``), with the whole record after the change and its
version, so that each side keeps a copy of the other's history and preferences (two-way
sync, ``strangler_contracts.notification_records``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from strangler_contracts.base import IntegrationEvent
from strangler_contracts.topics import NOTIFICATIONS

__all__ = ["NotificationPreferencesChanged", "NotificationSent"]

_ORIGIN_DESCRIPTION = "The side that made the change: 'legacy-monolith' or 'notifications'."


class NotificationSent(IntegrationEvent):
    """An e-mail to a user was handled: delivered, failed to deliver, or suppressed by choice."""

    name = "notifications.notification-sent"
    version = 1
    topic = NOTIFICATIONS.name
    aggregate_field = "user_id"

    notification_id: str
    user_id: str
    kind: str
    recipient: str
    subject: str
    status: Literal["sent", "failed", "suppressed"]
    occurred_at: datetime
    origin: str | None = Field(
        default=None,
        description=f"{_ORIGIN_DESCRIPTION} Absent in events written before two-way sync; "
        "the envelope's source says it then.",
    )
    notification_version: int | None = Field(
        default=None, ge=1, description="The notification's version after this change."
    )
    category: str | None = Field(default=None, description="'account' or 'billing'.")
    body: str | None = None
    error: str | None = Field(default=None, description="Why a failed mail was not delivered.")
    created_at: datetime | None = Field(default=None, description="When it was recorded.")
    sent_at: datetime | None = Field(default=None, description="When the SMTP server took it.")


class NotificationPreferencesChanged(IntegrationEvent):
    """A user's choice of e-mail categories, after a change (or as first recorded)."""

    name = "notifications.preferences-changed"
    version = 1
    topic = NOTIFICATIONS.name
    aggregate_field = "user_id"

    user_id: str
    account_emails: bool
    billing_emails: bool
    updated_at: datetime
    origin: str = Field(description=_ORIGIN_DESCRIPTION)
    preferences_version: int = Field(
        ge=1, description="The preferences' version after this change."
    )
