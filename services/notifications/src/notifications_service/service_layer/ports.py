"""What the service layer needs from the outside, as protocols the adapters implement.

``NotificationStore`` is the database as the use cases see it, inside one transaction;
``Stores`` opens one (committing when the block ends without an error). ``Mailer`` hands a
mail to SMTP and says how it went; ``SendingSwitch`` decides whether this service sends a
mail at all or leaves it to the monolith.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from strangler_contracts import CloudEvent, IntegrationEvent

from notifications_service.domain.mails import LedgerEntry, Notification
from notifications_service.domain.preferences import Preferences

__all__ = [
    "Clock",
    "DueMail",
    "MailNotDelivered",
    "MailRefused",
    "Mailer",
    "NotificationStore",
    "OutgoingMail",
    "Recipient",
    "SendingSwitch",
    "Stores",
]

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Recipient:
    user_id: str
    email: str
    name: str
    registered_at: datetime


@dataclass(frozen=True)
class OutgoingMail:
    to: str
    subject: str
    body: str
    message_id: str


@dataclass(frozen=True)
class DueMail:
    """A pending mail the sender took, with what it needs to write it."""

    entry: LedgerEntry
    mail: OutgoingMail


class MailNotDelivered(Exception):
    """The server did not take the mail this time (unreachable, timed out, a 4xx): retry."""


class MailRefused(Exception):
    """The server refused the mail for good (a 5xx): sending it again would not help."""


class Mailer(Protocol):
    async def send(self, mail: OutgoingMail) -> None:
        """Hand ``mail`` over; ``MailNotDelivered`` or ``MailRefused`` when it was not taken."""
        ...

    async def aclose(self) -> None: ...


class SendingSwitch(Protocol):
    async def sends(self, template: str, user_id: str, envelope: CloudEvent) -> bool:
        """Whether this service sends the ``template`` mail ``envelope`` asks for; False:
        the monolith sends it (inline, in the request that caused the event)."""
        ...


class NotificationStore(Protocol):
    """Notifications' tables within one transaction."""

    async def recipient(self, user_id: str) -> Recipient | None: ...

    async def save_recipient(self, recipient: Recipient) -> None: ...

    async def rename_recipient(self, user_id: str, name: str) -> None:
        """A known recipient's new name; nothing for one not known yet."""
        ...

    async def plan_of(self, subscription_id: str) -> str | None: ...

    async def save_subscription_plan(self, subscription_id: str, plan_id: str) -> None: ...

    async def preferences(self, user_id: str) -> Preferences | None: ...

    async def save_preferences(self, preferences: Preferences) -> int:
        """Store them; their version now."""
        ...

    async def has_mail(self, event_id: str, template: str) -> bool: ...

    async def add_mail(self, notification: Notification, entry: LedgerEntry) -> None: ...

    async def take_due(self, now: datetime, lease_until: datetime, limit: int) -> list[DueMail]:
        """The oldest pending mails due by ``now``, each taken: one more attempt, and not due
        again before ``lease_until``."""
        ...

    async def mark_sent(self, entry: LedgerEntry, at: datetime) -> Notification: ...

    async def mark_retry(self, entry: LedgerEntry, error: str, due: datetime) -> None: ...

    async def mark_dead(self, entry: LedgerEntry, error: str, at: datetime) -> Notification: ...

    async def publish(self, event: IntegrationEvent, occurred_at: datetime) -> None:
        """Record ``event`` in the outbox, committed with the rest."""
        ...

    async def dead_letter(self, entry: LedgerEntry, reason: str, error: str) -> None:
        """Put the event that caused ``entry`` on its topic's dead-letter topic (through the
        outbox), with why."""
        ...

    async def notifications_of(
        self, user_id: str, limit: int, offset: int
    ) -> tuple[list[Notification], int]: ...

    async def notification(self, notification_id: str) -> Notification | None: ...

    async def pending_count(self) -> int: ...


Stores = Callable[[], AbstractAsyncContextManager[NotificationStore]]
