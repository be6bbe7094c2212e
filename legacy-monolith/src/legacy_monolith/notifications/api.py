"""``/api/notifications``: the caller's e-mails and their preferences."""

from __future__ import annotations

from fastapi import APIRouter
from http_platform import Page, PageQuery

from legacy_monolith.dependencies import CurrentUser, DbSession
from legacy_monolith.errors import NotFound
from legacy_monolith.models import Notification
from legacy_monolith.notifications import service
from legacy_monolith.schemas import NotificationOut, PreferencesIn, PreferencesOut

__all__ = ["router"]

router = APIRouter(prefix="/api/notifications", tags=["notifications"])


@router.get("")
async def list_notifications(
    user: CurrentUser, session: DbSession, page: PageQuery
) -> Page[NotificationOut]:
    """Every e-mail sent (or suppressed) for the caller, newest first."""
    rows, total = await service.list_notifications(session, user.id, page.limit, page.offset)
    return Page.of([NotificationOut.model_validate(r) for r in rows], total, page)


@router.get("/preferences")
async def get_preferences(user: CurrentUser, session: DbSession) -> PreferencesOut:
    """Which e-mail categories the caller receives."""
    preferences = await service.preferences_of(session, user.id)
    await session.commit()
    return PreferencesOut.model_validate(preferences)


@router.put("/preferences")
async def put_preferences(
    body: PreferencesIn, user: CurrentUser, session: DbSession
) -> PreferencesOut:
    """Opt in or out of account and billing e-mails."""
    preferences = await service.update_preferences(
        session, user.id, account_emails=body.account_emails, billing_emails=body.billing_emails
    )
    await session.commit()
    return PreferencesOut.model_validate(preferences)


@router.get("/{notification_id}")
async def get_notification(
    notification_id: str, user: CurrentUser, session: DbSession
) -> NotificationOut:
    """One of the caller's notifications."""
    notification = await session.get(Notification, notification_id)
    if notification is None or notification.user_id != user.id:
        raise NotFound("notification", notification_id)
    return NotificationOut.model_validate(notification)
