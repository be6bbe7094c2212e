"""The conditions the service layer refuses, named for what the caller did."""

from __future__ import annotations

__all__ = ["NotificationNotFound", "NotificationsError", "RecipientNotYetKnown", "UnknownTemplate"]


class NotificationsError(Exception):
    pass


class NotificationNotFound(NotificationsError):
    def __init__(self, notification_id: str) -> None:
        super().__init__(f"no notification {notification_id!r}")
        self.notification_id = notification_id


class UnknownTemplate(NotificationsError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no template {name!r}")
        self.name = name


class RecipientNotYetKnown(Exception):
    """A billing event names a user whose registration has not arrived yet: the consumer
    parks the event until it does (the two travel on different topics)."""

    def __init__(self, user_id: str) -> None:
        super().__init__(f"the registration of user {user_id!r} has not arrived yet")
        self.user_id = user_id
