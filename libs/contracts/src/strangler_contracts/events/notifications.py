"""Events of the notifications capability, on ``strangler.notifications``, keyed by user id."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from strangler_contracts.base import IntegrationEvent
from strangler_contracts.topics import NOTIFICATIONS

__all__ = ["NotificationSent"]


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
