"""Sending e-mail inline, inside the caller's request and transaction — or handing it over.

This is the legacy smell the strangling removes: a slow SMTP server slows down registration
and payment. Delivery failures never fail the business operation; they are recorded on the
notification row instead.

``record_with_mail`` is how a change publishes its event and causes its mail. The ``mail``
flag (``mail_flag.py``) picks the side that sends, once, and the event records the choice
(``mail_sent_by``) in the same transaction: ``legacy``, the monolith sends inline as it
always did; ``new``, it sends nothing and the notifications service sends from the event.
"""

from __future__ import annotations

import logging
from typing import Any

from http_platform.edge_input import one_line
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from strangler_contracts import (
    InvoiceIssued,
    PasswordChanged,
    PaymentFailed,
    PaymentSucceeded,
    RefundIssued,
    UserRegistered,
)

from legacy_monolith import events
from legacy_monolith.database import paginate, utcnow
from legacy_monolith.models import Notification, NotificationPreferences, User, new_id
from legacy_monolith.notifications.mailer import MailDeliveryFailed, Mailer, OutgoingMail
from legacy_monolith.notifications.templates import Category, render
from legacy_monolith.runtime import Runtime

__all__ = [
    "MailCause",
    "list_notifications",
    "notify",
    "preferences_of",
    "record_with_mail",
    "update_preferences",
]

MailCause = (
    UserRegistered
    | PasswordChanged
    | InvoiceIssued
    | PaymentSucceeded
    | PaymentFailed
    | RefundIssued
)
"""The events whose change mails the user; each says who sends that mail (``mail_sent_by``)."""

logger = logging.getLogger(__name__)


async def preferences_of(session: AsyncSession, user_id: str) -> NotificationPreferences:
    """The user's choices; the defaults (both on) are stored the first time they are needed,
    and published like any change (the notifications service keeps a copy)."""
    preferences = await session.get(NotificationPreferences, user_id)
    if preferences is None:
        preferences = NotificationPreferences(
            user_id=user_id, account_emails=True, billing_emails=True, updated_at=utcnow()
        )
        session.add(preferences)
        await session.flush()  # counts the record's version
        await events.record(session, events.preferences_changed(preferences))
    return preferences


async def update_preferences(
    session: AsyncSession, user_id: str, *, account_emails: bool, billing_emails: bool
) -> NotificationPreferences:
    preferences = await preferences_of(session, user_id)
    preferences.account_emails = account_emails
    preferences.billing_emails = billing_emails
    preferences.updated_at = utcnow()
    await session.flush()  # counts the record's version
    await events.record(session, events.preferences_changed(preferences))
    return preferences


async def record_with_mail(
    session: AsyncSession,
    runtime: Runtime,
    user: User,
    cause: MailCause,
    kind: str,
    **values: Any,
) -> Notification | None:
    """Record ``cause`` marked with the side that sends its ``kind`` mail, and send it inline
    when that side is the monolith; ``None`` when the notifications service sends it."""
    sent_by = runtime.mail_flag.sender_for(user)
    await events.record(session, cause.model_copy(update={"mail_sent_by": sent_by}))
    if sent_by == "new":
        return None
    return await notify(session, runtime.mailer, user, kind, **values)


async def notify(
    session: AsyncSession, mailer: Mailer, user: User, kind: str, **values: Any
) -> Notification:
    """Render, record and (unless the user opted out) deliver one e-mail right now."""
    category, subject, body = render(kind, name=user.name, email=user.email, **values)
    preferences = await preferences_of(session, user.id)
    allowed = (
        preferences.account_emails if category is Category.ACCOUNT else preferences.billing_emails
    )
    notification = Notification(
        id=new_id(),
        user_id=user.id,
        kind=kind,
        category=category.value,
        recipient=user.email,
        subject=subject,
        body=body,
        status="suppressed",
        created_at=utcnow(),
    )
    if allowed:
        try:
            await mailer.send(OutgoingMail(to=user.email, subject=subject, body=body))
        except MailDeliveryFailed as exc:
            notification.status = "failed"
            notification.error = str(exc)
            logger.warning(
                "%s mail %s to user %s not delivered: %s",
                kind,
                notification.id,
                user.id,
                one_line(str(exc)),
            )
        else:
            notification.status = "sent"
            notification.sent_at = utcnow()
    session.add(notification)
    await session.flush()  # counts the record's version
    await events.record(session, events.notification_sent(notification))
    return notification


async def list_notifications(
    session: AsyncSession, user_id: str, limit: int, offset: int
) -> tuple[list[Notification], int]:
    statement = (
        select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(Notification.created_at.desc(), Notification.id)
    )
    return await paginate(session, statement, limit, offset)
