"""Request and response bodies of ``/api/notifications``: the very shapes the monolith
answers, and the templates' own. Requests are strict: no coercion, no unknown members."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

__all__ = ["NotificationOut", "PreferencesIn", "PreferencesOut", "PreviewOut", "TemplateOut"]


class Request(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class Response(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class NotificationOut(Response):
    id: str
    kind: str
    category: str
    recipient: str
    subject: str
    body: str
    status: str
    created_at: datetime
    sent_at: datetime | None


class PreferencesIn(Request):
    account_emails: bool
    billing_emails: bool


class PreferencesOut(Response):
    account_emails: bool
    billing_emails: bool
    updated_at: datetime


class TemplateOut(BaseModel):
    name: str
    category: str
    subject: str
    body: str
    placeholders: list[str]


class PreviewOut(BaseModel):
    template: str
    category: str
    subject: str
    body: str
    values: dict[str, str]
