"""Notifications' events honour every consumer's message pact (the monolith's
anti-corruption layer, the accounts sides of an account closure), produced by their real
paths at a real notifications process:

- a user chooses their e-mails through ``PUT /api/notifications/preferences``
  (``NotificationPreferencesChanged``);
- a ``UserRegistered`` given to it over a real broker, as the monolith publishes it: its
  consumer records the welcome, its sender hands it to a real SMTP sink (a process of its
  own), and the mail handled is ``NotificationSent``;
- billing's ``BillingClosedForAccount`` for that user, over the broker: the farewell goes
  to the sink, then everything notifications holds about the user is erased and
  ``FarewellSentAndDataErased`` says so.

In each case the outbox row committed is handed over as the relay puts it on the wire."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pact.types import Message
from strangler_contracts import UserRegistered

from tests.contracts.providers.event_triggers import (
    answer_in_outbox,
    as_message,
    billing_done,
    broker,
    publish,
    smtp_sink,
)
from tests.contracts.providers.monolith_state import JWT_SECRET
from tests.contracts.providers.notifications_state import choose_emails
from tests.contracts.verification import outbox_payload, provider_process, verify
from tests.support.service_process import HOST

EVENT_TYPE = "dev.strangler-fig.notifications.{}.v1"
PREFERENCES_CHANGED = EVENT_TYPE.format("preferences-changed")
NOTIFICATION_SENT = EVENT_TYPE.format("notification-sent")
FAREWELL_SENT_AND_DATA_ERASED = EVENT_TYPE.format("farewell-sent-and-data-erased")


def test_notifications_produces_what_its_consumers_read(tmp_path: Path) -> None:
    database = tmp_path / "notifications.db"
    settings = {
        "NOTIFICATIONS_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "NOTIFICATIONS_JWT_SECRET": JWT_SECRET,
        "NOTIFICATIONS_OPERATOR_TOKEN": "contract-operator-token-0123456789",
        # The rows stay in the outbox: the test reads what the relay would send.
        "NOTIFICATIONS_OUTBOX_RELAY_ENABLED": "false",
        "NOTIFICATIONS_LEGACY_SYNC_ENABLED": "false",
        # Its consumer of the events that cause mail, and its sender: every mail, now.
        "NOTIFICATIONS_CONSUMER_GROUP": f"notifications-contract-{uuid.uuid4().hex[:8]}",
        "NOTIFICATIONS_SENDING": "on",
        "NOTIFICATIONS_SEND_POLL_SECONDS": "0.1",
    }
    with (
        broker() as events,
        smtp_sink(tmp_path) as (smtp_port, sink),
        provider_process(
            "notifications",
            "notifications-service",
            {
                **settings,
                "NOTIFICATIONS_KAFKA_BOOTSTRAP_SERVERS": events.bootstrap_servers,
                "NOTIFICATIONS_SMTP_HOST": HOST,
                "NOTIFICATIONS_SMTP_PORT": str(smtp_port),
            },
            tmp_path,
            prepare=True,
        ) as notifications,
    ):

        def registered() -> str:
            """A user registered at the monolith, as it publishes it: their id."""
            user = str(uuid.uuid4())
            registration = UserRegistered(
                user_id=user,
                email=f"ada-{user[:8]}@example.com",
                display_name="Ada",
                registered_at=datetime.now(UTC),
            )
            publish(events, registration, "/legacy-monolith")
            return user

        def caught(**query: str) -> None:
            """The SMTP sink holds the mail: notifications handed it over."""
            found = httpx.get(f"{sink.url}/messages", params=query, timeout=30)
            assert found.status_code == 200, found.text
            assert found.json()["total"] >= 1, (query, found.text)

        def a_choice_of_emails(**_: Any) -> Message:
            user = str(uuid.uuid4())
            choose_emails(notifications.url, user, f"ada-{user[:8]}@example.com")
            return as_message(outbox_payload(database, PREFERENCES_CHANGED))

        def a_mail_sent(**_: Any) -> Message:
            user = registered()
            sent = answer_in_outbox(
                database,
                NOTIFICATION_SENT,
                lambda d: d["user_id"] == user and d["status"] == "sent",
            )
            caught(to=sent["data"]["recipient"])
            return as_message(sent)

        def a_farewell(**_: Any) -> Message:
            user, closure_id = registered(), str(uuid.uuid4())
            publish(events, billing_done(closure_id, user), "/billing", correlation_id=closure_id)
            erased = answer_in_outbox(
                database, FAREWELL_SENT_AND_DATA_ERASED, lambda d: d["closure_id"] == closure_id
            )
            caught(message_id=erased["data"]["farewell_message_id"])
            return as_message(erased)

        verification = verify(
            "notifications-events",
            None,
            messages={
                "a NotificationPreferencesChanged event": a_choice_of_emails,
                "a NotificationSent event": a_mail_sent,
                "a FarewellSentAndDataErased event": a_farewell,
            },
            states={
                "a user chooses their e-mails at notifications": lambda: None,
                "a mail to a user is sent at notifications": lambda: None,
                "billing is done with a closing account at notifications": lambda: None,
            },
        )
    assert verification.broken == [], verification.table()
    assert verification.interactions >= 4
