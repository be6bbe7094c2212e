"""In-memory stand-ins for notifications' database and SMTP server."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from notifications_service.domain.mails import STATUS_OF, LedgerEntry, Notification
from notifications_service.domain.preferences import Preferences
from notifications_service.service_layer.ports import (
    DueMail,
    MailNotDelivered,
    MailRefused,
    NotificationStore,
    OutgoingMail,
    Recipient,
    Stores,
)
from strangler_contracts import CloudEvent, IntegrationEvent

__all__ = ["FakeMailer", "FakeStore", "FixedClock", "Switch"]


class FixedClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class FakeStore:
    recipients: dict[str, Recipient] = field(default_factory=dict)
    plans: dict[str, str] = field(default_factory=dict)
    choices: dict[str, Preferences] = field(default_factory=dict)
    choice_versions: dict[str, int] = field(default_factory=dict)
    notifications: dict[str, Notification] = field(default_factory=dict)
    ledger: dict[tuple[str, str], LedgerEntry] = field(default_factory=dict)
    published: list[IntegrationEvent] = field(default_factory=list)
    dead_letters: list[tuple[LedgerEntry, str, str]] = field(default_factory=list)

    def stores(self) -> Stores:
        @contextlib.asynccontextmanager
        async def store() -> AsyncIterator[NotificationStore]:
            yield self

        return store

    async def recipient(self, user_id: str) -> Recipient | None:
        return self.recipients.get(user_id)

    async def save_recipient(self, recipient: Recipient) -> None:
        self.recipients[recipient.user_id] = recipient

    async def rename_recipient(self, user_id: str, name: str) -> None:
        if user_id in self.recipients:
            self.recipients[user_id] = replace(self.recipients[user_id], name=name)

    async def plan_of(self, subscription_id: str) -> str | None:
        return self.plans.get(subscription_id)

    async def save_subscription_plan(self, subscription_id: str, plan_id: str) -> None:
        self.plans.setdefault(subscription_id, plan_id)

    async def preferences(self, user_id: str) -> Preferences | None:
        return self.choices.get(user_id)

    async def save_preferences(self, preferences: Preferences) -> int:
        self.choices[preferences.user_id] = preferences
        version = self.choice_versions.get(preferences.user_id, 0) + 1
        self.choice_versions[preferences.user_id] = version
        return version

    async def has_mail(self, event_id: str, template: str) -> bool:
        return (event_id, template) in self.ledger

    async def add_mail(self, notification: Notification, entry: LedgerEntry) -> None:
        self.notifications[notification.id] = replace(notification)
        self.ledger[(entry.event_id, entry.template)] = replace(entry)

    async def take_due(self, now: datetime, lease_until: datetime, limit: int) -> list[DueMail]:
        due = sorted(
            (e for e in self.ledger.values() if e.state == "pending" and e.next_attempt_at <= now),
            key=lambda e: (e.next_attempt_at, e.created_at),
        )[:limit]
        taken = []
        for entry in due:
            entry.attempts += 1
            entry.next_attempt_at = lease_until
            n = self.notifications[entry.notification_id]
            mail = OutgoingMail(n.recipient, n.subject, n.body, entry.message_id)
            taken.append(DueMail(replace(entry), mail))
        return taken

    def _stored(self, entry: LedgerEntry) -> LedgerEntry:
        return self.ledger[(entry.event_id, entry.template)]

    async def mark_sent(self, entry: LedgerEntry, at: datetime) -> Notification:
        self._stored(entry).state, self._stored(entry).sent_at = "sent", at
        notification = self.notifications[entry.notification_id]
        notification.status, notification.sent_at = STATUS_OF["sent"], at
        return replace(notification)

    async def mark_retry(self, entry: LedgerEntry, error: str, due: datetime) -> None:
        stored = self._stored(entry)
        stored.last_error, stored.next_attempt_at = error, due

    async def mark_dead(self, entry: LedgerEntry, error: str, at: datetime) -> Notification:
        stored = self._stored(entry)
        stored.state, stored.last_error = "dead", error
        notification = self.notifications[entry.notification_id]
        notification.status, notification.error = STATUS_OF["dead"], error
        return replace(notification)

    async def publish(self, event: IntegrationEvent, occurred_at: datetime) -> None:
        self.published.append(event)

    async def dead_letter(self, entry: LedgerEntry, reason: str, error: str) -> None:
        self.dead_letters.append((entry, reason, error))

    async def notifications_of(
        self, user_id: str, limit: int, offset: int
    ) -> tuple[list[Notification], int]:
        mine = [n for n in self.notifications.values() if n.user_id == user_id]
        mine.sort(key=lambda n: n.created_at, reverse=True)
        return mine[offset : offset + limit], len(mine)

    async def notification(self, notification_id: str) -> Notification | None:
        return self.notifications.get(notification_id)

    async def pending_count(self) -> int:
        return sum(1 for e in self.ledger.values() if e.state == "pending")


@dataclass
class FakeMailer:
    """Takes mail, or fails as told: ``down`` (for now) or ``refusing`` (for good)."""

    sent: list[OutgoingMail] = field(default_factory=list)
    down: bool = False
    refusing: set[str] = field(default_factory=set)

    async def send(self, mail: OutgoingMail) -> None:
        if self.down:
            raise MailNotDelivered("ConnectionRefusedError: the server is away")
        if mail.to in self.refusing:
            raise MailRefused("SMTPRecipientsRefused: 550 5.1.1 mailbox unavailable")
        self.sent.append(mail)

    async def aclose(self) -> None:
        return None


@dataclass
class Switch:
    sending: bool = True

    async def sends(self, template: str, user_id: str, envelope: CloudEvent) -> bool:
        return self.sending
