"""``/api/notifications``: the monolith's API, answered from notifications' own database,
and the templates, which anyone may read and preview."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from http_platform import Page, PageQuery
from http_platform.service_app import root_of

from notifications_service.bootstrap import NotificationsProcess
from notifications_service.domain.templates import Template
from notifications_service.entrypoints.identity import UserId
from notifications_service.entrypoints.schemas import (
    NotificationOut,
    PreferencesIn,
    PreferencesOut,
    PreviewOut,
    TemplateOut,
)
from notifications_service.service_layer.notifications import Notifications

__all__ = ["router"]

router = APIRouter(prefix="/api/notifications", tags=["notifications"])


async def _notifications(request: Request) -> Notifications:
    return root_of(request, NotificationsProcess).notifications


NotificationsDep = Annotated[Notifications, Depends(_notifications)]


def _template_out(template: Template) -> TemplateOut:
    return TemplateOut(
        name=template.name,
        category=template.category.value,
        subject=template.subject,
        body=template.body,
        placeholders=template.placeholders,
    )


@router.get("")
async def list_notifications(
    user_id: UserId, notifications: NotificationsDep, page: PageQuery
) -> Page[NotificationOut]:
    """Every e-mail sent (or suppressed) for the caller, newest first."""
    rows, total = await notifications.notifications_of(user_id, page.limit, page.offset)
    return Page.of([NotificationOut.model_validate(r) for r in rows], total, page)


@router.get("/preferences")
async def get_preferences(user_id: UserId, notifications: NotificationsDep) -> PreferencesOut:
    """Which e-mail categories the caller receives."""
    return PreferencesOut.model_validate(await notifications.preferences(user_id))


@router.put("/preferences")
async def put_preferences(
    body: PreferencesIn, user_id: UserId, notifications: NotificationsDep
) -> PreferencesOut:
    """Opt in or out of account and billing e-mails."""
    preferences = await notifications.choose(
        user_id, account_emails=body.account_emails, billing_emails=body.billing_emails
    )
    return PreferencesOut.model_validate(preferences)


@router.get("/templates")
async def list_templates(notifications: NotificationsDep) -> list[TemplateOut]:
    """Every kind of e-mail, as data: subject, body and the values they use."""
    return [_template_out(template) for template in notifications.templates()]


@router.get("/templates/{name}")
async def get_template(name: str, notifications: NotificationsDep) -> TemplateOut:
    """One kind of e-mail."""
    return _template_out(notifications.template(name))


@router.get("/templates/{name}/preview")
async def preview_template(name: str, notifications: NotificationsDep) -> PreviewOut:
    """The e-mail as a user gets it, filled with the template's sample values."""
    template = notifications.template(name)
    rendered = notifications.preview(name)
    return PreviewOut(
        template=template.name,
        category=template.category.value,
        subject=rendered.subject,
        body=rendered.body,
        values=dict(template.samples),
    )


@router.get("/{notification_id}")
async def get_notification(
    notification_id: str, user_id: UserId, notifications: NotificationsDep
) -> NotificationOut:
    """One of the caller's notifications."""
    return NotificationOut.model_validate(
        await notifications.notification(user_id, notification_id)
    )
