"""A mail an event asked for: its notification (what the user sees in the list) and its
entry in the send ledger (how sending it goes).

The ledger holds one entry per (event id, template) and walks it through a small state
machine, each step committed:

    pending ──taken (attempts+1, leased)──▶ SMTP ──250──▶ sent
       ▲                                      │──4xx, no answer──▶ pending (retry later)
       └──────── lease expired (a crash) ─────┘──5xx──▶ dead (reason kept, dead-lettered)
    suppressed: the user opted out of the category; nothing is sent

A mail is taken *before* it is handed to SMTP (``attempts`` counts the hand-overs), and
marked sent only *after* the server accepted it. A crash in between leaves it pending; once
its lease runs out it is sent again with the same ``Message-ID`` — both derived from the
event id and the template — so that repeat is recognisable (the SMTP sink lists it, a real
mail system drops it). That window, accepted by the server but not yet recorded, is the
only place a mail can go out twice, and only the mails in flight at the crash are in it (at
most one per SMTP connection); outside it nothing is sent twice and nothing is lost.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal

from notifications_service.domain.templates import Category

__all__ = [
    "ORIGIN",
    "LedgerEntry",
    "MailState",
    "Notification",
    "NotificationStatus",
    "message_id_for",
    "notification_id_for",
    "retry_delay",
]

ORIGIN = "notifications"
"""This side's name in the data migration with the monolith: what its records' ``origin`` says."""

MailState = Literal["pending", "sent", "suppressed", "dead"]
NotificationStatus = Literal["pending", "sent", "suppressed", "failed"]
"""The monolith's statuses (``sent``, ``suppressed``, ``failed``) and ``pending``: the
monolith sent inline and never had a mail waiting."""

STATUS_OF: Final[dict[MailState, NotificationStatus]] = {
    "pending": "pending",
    "sent": "sent",
    "suppressed": "suppressed",
    "dead": "failed",
}

_IDS: Final = uuid.UUID("6c1f0b9e-3a57-4d8e-9f0e-5b2a7c1d4e60")


def notification_id_for(event_id: str, template: str) -> str:
    """The same event and template always make the same notification id."""
    return str(uuid.uuid5(_IDS, f"{event_id}/{template}"))


def message_id_for(event_id: str, template: str, domain: str) -> str:
    """The ``Message-ID`` of the mail: every attempt at it carries the same one."""
    return f"<{notification_id_for(event_id, template)}.{template}@{domain}>"


def retry_delay(attempts: int, first: float, most: float) -> timedelta:
    """How long to wait after ``attempts`` failed hand-overs: doubling, at most ``most``."""
    return timedelta(seconds=min(most, first * 2 ** max(0, attempts - 1)))


@dataclass
class Notification:
    """The monolith's notification, field for field."""

    id: str
    user_id: str
    kind: str
    category: Category
    recipient: str
    subject: str
    body: str
    status: NotificationStatus
    created_at: datetime
    error: str | None = None
    sent_at: datetime | None = None
    version: int = 1
    """Counts its changes, for the data migration's sync with the monolith's copy."""


@dataclass
class LedgerEntry:
    """How sending one mail goes; see the module."""

    event_id: str
    template: str
    notification_id: str
    user_id: str
    state: MailState
    message_id: str
    next_attempt_at: datetime
    created_at: datetime
    event_topic: str
    event: str
    """The causing CloudEvent, as received: dead-lettered with the mail if SMTP refuses it."""
    attempts: int = 0
    last_error: str | None = None
    sent_at: datetime | None = None
