"""The service layer's ``NotificationStore`` on notifications' tables (SQLAlchemy Core).

``sql_stores(sessions)`` opens one transaction per block and commits it when the block ends
without an error; ``SqlStore(session)`` joins a transaction someone else owns (the event
consumer's, so that a mail is recorded exactly when its event is marked processed).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Row, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from strangler_contracts import IntegrationEvent, dead_letter_topic
from strangler_eventing import Outbox
from strangler_eventing.dead_letters import dead_letter_headers
from strangler_persistence import SessionFactory, utcnow

from notifications_service.adapters.tables import (
    notification_preferences,
    notifications,
    outbox,
    recipients,
    send_ledger,
    subscription_plans,
)
from notifications_service.domain.mails import ORIGIN, STATUS_OF, LedgerEntry, Notification
from notifications_service.domain.preferences import Preferences
from notifications_service.domain.templates import Category
from notifications_service.service_layer.ports import (
    DueMail,
    NotificationStore,
    OutgoingMail,
    Recipient,
    Stores,
)

__all__ = ["ORIGIN", "SENDER_GROUP", "SOURCE", "SqlStore", "sql_stores"]

SOURCE: Final = "/notifications"
SENDER_GROUP: Final = "notifications.mail-sender"
"""Who gave up on a mail's event, as its dead letter says (``dlq.consumer-group``)."""

_OUTBOX = Outbox(outbox, SOURCE)


def sql_stores(sessions: SessionFactory) -> Stores:
    @contextlib.asynccontextmanager
    async def store() -> AsyncIterator[NotificationStore]:
        async with sessions() as session, session.begin():
            yield SqlStore(session)

    return store


def _notification(row: Row[Any]) -> Notification:
    return Notification(
        id=row.id,
        user_id=row.user_id,
        kind=row.kind,
        category=Category(row.category),
        recipient=row.recipient,
        subject=row.subject,
        body=row.body,
        status=row.status,
        created_at=row.created_at,
        error=row.error,
        sent_at=row.sent_at,
        version=row.version,
    )


def _entry(row: Row[Any]) -> LedgerEntry:
    return LedgerEntry(
        event_id=row.event_id,
        template=row.template,
        notification_id=row.notification_id,
        user_id=row.user_id,
        state=row.state,
        message_id=row.message_id,
        next_attempt_at=row.next_attempt_at,
        created_at=row.created_at,
        event_topic=row.event_topic,
        event=row.event,
        attempts=row.attempts,
        last_error=row.last_error,
        sent_at=row.sent_at,
    )


class SqlStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _upsert(self, table: Any) -> Any:
        dialect = self.session.get_bind().dialect.name
        return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)

    async def recipient(self, user_id: str) -> Recipient | None:
        row = (
            await self.session.execute(select(recipients).where(recipients.c.user_id == user_id))
        ).first()
        if row is None:
            return None
        return Recipient(row.user_id, row.email, row.name, row.registered_at)

    async def save_recipient(self, recipient: Recipient) -> None:
        values = {
            "user_id": recipient.user_id,
            "email": recipient.email,
            "name": recipient.name,
            "registered_at": recipient.registered_at,
        }
        statement = self._upsert(recipients).values(**values)
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[recipients.c.user_id],
                set_={"email": recipient.email, "name": recipient.name},
            )
        )

    async def rename_recipient(self, user_id: str, name: str) -> None:
        await self.session.execute(
            update(recipients).where(recipients.c.user_id == user_id).values(name=name)
        )

    async def plan_of(self, subscription_id: str) -> str | None:
        plan: str | None = await self.session.scalar(
            select(subscription_plans.c.plan_id).where(
                subscription_plans.c.subscription_id == subscription_id
            )
        )
        return plan

    async def save_subscription_plan(self, subscription_id: str, plan_id: str) -> None:
        statement = self._upsert(subscription_plans).values(
            subscription_id=subscription_id, plan_id=plan_id
        )
        await self.session.execute(statement.on_conflict_do_nothing())

    async def preferences(self, user_id: str) -> Preferences | None:
        row = (
            await self.session.execute(
                select(notification_preferences).where(
                    notification_preferences.c.user_id == user_id
                )
            )
        ).first()
        if row is None:
            return None
        return Preferences(row.user_id, row.account_emails, row.billing_emails, row.updated_at)

    async def save_preferences(self, preferences: Preferences) -> int:
        table = notification_preferences
        choices = {
            "account_emails": preferences.account_emails,
            "billing_emails": preferences.billing_emails,
            "updated_at": preferences.updated_at,
            "origin": ORIGIN,
        }
        statement = self._upsert(table).values(user_id=preferences.user_id, version=1, **choices)
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[table.c.user_id], set_={**choices, "version": table.c.version + 1}
            )
        )
        version: int = (
            await self.session.execute(
                select(table.c.version).where(table.c.user_id == preferences.user_id)
            )
        ).scalar_one()
        return version

    async def has_mail(self, event_id: str, template: str) -> bool:
        found = await self.session.scalar(
            select(send_ledger.c.state).where(
                send_ledger.c.event_id == event_id, send_ledger.c.template == template
            )
        )
        return found is not None

    async def add_mail(self, notification: Notification, entry: LedgerEntry) -> None:
        await self.session.execute(
            insert(notifications).values(
                id=notification.id,
                user_id=notification.user_id,
                kind=notification.kind,
                category=notification.category.value,
                recipient=notification.recipient,
                subject=notification.subject,
                body=notification.body,
                status=notification.status,
                error=notification.error,
                created_at=notification.created_at,
                sent_at=notification.sent_at,
                origin=ORIGIN,
                version=1,
            )
        )
        await self.session.execute(
            insert(send_ledger).values(
                event_id=entry.event_id,
                template=entry.template,
                notification_id=entry.notification_id,
                user_id=entry.user_id,
                state=entry.state,
                attempts=entry.attempts,
                message_id=entry.message_id,
                last_error=entry.last_error,
                next_attempt_at=entry.next_attempt_at,
                created_at=entry.created_at,
                updated_at=entry.created_at,
                sent_at=entry.sent_at,
                event_topic=entry.event_topic,
                event=entry.event,
            )
        )

    async def take_due(self, now: datetime, lease_until: datetime, limit: int) -> list[DueMail]:
        statement = (
            select(
                send_ledger,
                notifications.c.recipient,
                notifications.c.subject,
                notifications.c.body,
            )
            .join(notifications, notifications.c.id == send_ledger.c.notification_id)
            .where(send_ledger.c.state == "pending", send_ledger.c.next_attempt_at <= now)
            .order_by(send_ledger.c.next_attempt_at, send_ledger.c.created_at)
            .limit(limit)
            .with_for_update(of=send_ledger, skip_locked=True)
        )
        rows = (await self.session.execute(statement)).all()
        taken: list[DueMail] = []
        for row in rows:
            entry = _entry(row)
            entry.attempts += 1
            entry.next_attempt_at = lease_until
            await self.session.execute(
                update(send_ledger)
                .where(
                    send_ledger.c.event_id == entry.event_id,
                    send_ledger.c.template == entry.template,
                )
                .values(attempts=entry.attempts, next_attempt_at=lease_until, updated_at=now)
            )
            taken.append(
                DueMail(entry, OutgoingMail(row.recipient, row.subject, row.body, entry.message_id))
            )
        return taken

    async def _change(self, entry: LedgerEntry, **values: Any) -> None:
        await self.session.execute(
            update(send_ledger)
            .where(
                send_ledger.c.event_id == entry.event_id,
                send_ledger.c.template == entry.template,
                send_ledger.c.state == "pending",
            )
            .values(updated_at=utcnow(), **values)
        )

    async def _notification_now(self, entry: LedgerEntry, **values: Any) -> Notification:
        await self.session.execute(
            update(notifications)
            .where(notifications.c.id == entry.notification_id)
            .values(version=notifications.c.version + 1, origin=ORIGIN, **values)
        )
        row = (
            await self.session.execute(
                select(notifications).where(notifications.c.id == entry.notification_id)
            )
        ).one()
        return _notification(row)

    async def mark_sent(self, entry: LedgerEntry, at: datetime) -> Notification:
        await self._change(entry, state="sent", sent_at=at, last_error=None)
        return await self._notification_now(entry, status=STATUS_OF["sent"], sent_at=at, error=None)

    async def mark_retry(self, entry: LedgerEntry, error: str, due: datetime) -> None:
        await self._change(entry, last_error=error, next_attempt_at=due)

    async def mark_dead(self, entry: LedgerEntry, error: str, at: datetime) -> Notification:
        await self._change(entry, state="dead", last_error=error)
        return await self._notification_now(entry, status=STATUS_OF["dead"], error=error)

    async def publish(self, event: IntegrationEvent, occurred_at: datetime) -> None:
        await _OUTBOX.record(self.session, event, occurred_at=occurred_at)

    async def dead_letter(self, entry: LedgerEntry, reason: str, error: str) -> None:
        envelope = json.loads(entry.event)
        headers = dead_letter_headers(
            original_headers=[("ce_type", str(envelope.get("type", "")).encode())],
            topic=entry.event_topic,
            partition=-1,
            offset=-1,
            group=SENDER_GROUP,
            reason=reason,
            error=error,
            attempts=entry.attempts,
        )
        await self.session.execute(
            insert(outbox).values(
                event_id=f"dead-mail-{entry.notification_id}",
                topic=dead_letter_topic(entry.event_topic),
                key=entry.user_id,
                event_type=str(envelope.get("type", "")),
                payload=entry.event,
                headers=json.dumps({name: value.decode() for name, value in headers}),
                created_at=utcnow(),
                publish_attempts=0,
            )
        )

    async def notifications_of(
        self, user_id: str, limit: int, offset: int
    ) -> tuple[list[Notification], int]:
        statement = (
            select(notifications, func.count().over().label("total"))
            .where(notifications.c.user_id == user_id)
            .order_by(notifications.c.created_at.desc(), notifications.c.id)
            .limit(limit)
            .offset(offset)
        )
        rows = (await self.session.execute(statement)).all()
        if rows:
            return [_notification(row) for row in rows], int(rows[0].total)
        total = await self.session.scalar(
            select(func.count())
            .select_from(notifications)
            .where(notifications.c.user_id == user_id)
        )
        return [], int(total or 0)

    async def notification(self, notification_id: str) -> Notification | None:
        row = (
            await self.session.execute(
                select(notifications).where(notifications.c.id == notification_id)
            )
        ).first()
        return None if row is None else _notification(row)

    async def pending_count(self) -> int:
        count = await self.session.scalar(
            select(func.count()).select_from(send_ledger).where(send_ledger.c.state == "pending")
        )
        return int(count or 0)
