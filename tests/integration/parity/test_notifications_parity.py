"""Notifications parity: the monolith's ``/api/notifications`` and the notifications service
answer the same script alike — the list, one mail, the preferences and every refusal —
judged by the rules the gateway's shadow diff uses for that route.

Both sides hold the same history the way they come to in production, each on its own: ada
and bob register at the monolith, which mails their welcome inline to the SMTP sink; the
monolith's outbox relay publishes the registrations, and the service (its own consumer
group, sending every mail it is asked for) records and sends its own welcome to the same
sink. The script starts once the service has sent both. The two sides stay independent runs:
the service's outbox relay and the data migration's sync are off, so neither copies the
other's records.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from embedded_broker import EmbeddedBroker
from legacy_monolith.app import create_app as create_monolith
from legacy_monolith.migrate import upgrade_to_head as migrate_monolith
from legacy_monolith.security import TokenIssuer
from legacy_monolith.settings import MonolithSettings
from notifications_service.adapters.migrate import upgrade_to_head as migrate_notifications
from notifications_service.adapters.tables import notifications
from notifications_service.entrypoints.app import create_app as create_notifications
from notifications_service.settings import NotificationsSettings
from smtp_sink.bootstrap import bootstrap as bootstrap_sink
from smtp_sink.settings import Settings as SinkSettings
from sqlalchemy import func, select
from strangler_persistence import create_engine

from tests.integration.conftest import FreshDatabase
from tests.support.asgi import started
from tests.support.monolith_api import Customer, sign_up
from tests.support.notifications_parity import EXCEPTIONS, notifications_parity_rules
from tests.support.operator import OPERATOR_TOKEN
from tests.support.parity import Side, Step, report, run_script
from tests.support.polling import eventually

pytestmark = pytest.mark.integration

JWT_SECRET = "parity-test-secret-with-at-least-32-bytes"
ISSUER = "legacy-monolith"
WELCOME_WAIT_SECONDS = 60.0

NOTIFICATIONS = "/api/notifications"
NOTIFICATION = NOTIFICATIONS + "/{welcome}"
PREFERENCES = NOTIFICATIONS + "/preferences"

SCRIPT = [
    Step("list-without-a-token", "GET", NOTIFICATIONS),
    Step("list-with-a-malformed-token", "GET", NOTIFICATIONS, caller="a-malformed-token"),
    Step("list-with-the-basic-scheme", "GET", NOTIFICATIONS, caller="a-basic-scheme"),
    Step("list-with-a-token-of-another-secret", "GET", NOTIFICATIONS, caller="another-secret"),
    Step("list-with-an-expired-token", "GET", NOTIFICATIONS, caller="an-expired-token"),
    Step("list", "GET", NOTIFICATIONS, "ada", captures={"welcome": "/items/0/id"}),
    Step("list-a-page", "GET", NOTIFICATIONS + "?limit=1&offset=0", "ada"),
    Step("list-past-the-end", "GET", NOTIFICATIONS + "?offset=10", "ada"),
    Step("list-with-limit-zero", "GET", NOTIFICATIONS + "?limit=0", "ada"),
    Step("list-with-limit-over-the-maximum", "GET", NOTIFICATIONS + "?limit=101", "ada"),
    Step("list-with-a-limit-that-is-not-a-number", "GET", NOTIFICATIONS + "?limit=x", "ada"),
    Step("list-with-a-negative-offset", "GET", NOTIFICATIONS + "?offset=-1", "ada"),
    Step("get-my-welcome", "GET", NOTIFICATION, "ada"),
    Step("get-someone-elses-welcome", "GET", NOTIFICATION, "bob"),
    Step("get-an-unknown-notification", "GET", NOTIFICATIONS + "/{unknown}", "ada"),
    Step("get-without-a-token", "GET", NOTIFICATION),
    Step("delete-the-list", "DELETE", NOTIFICATIONS, "ada"),
    Step("preferences-as-first-read", "GET", PREFERENCES, "ada"),
    Step(
        "opt-out-of-billing-mail",
        "PUT",
        PREFERENCES,
        "ada",
        {"account_emails": True, "billing_emails": False},
    ),
    Step("preferences-after-opting-out", "GET", PREFERENCES, "ada"),
    Step("preferences-of-another-user", "GET", PREFERENCES, "bob"),
    Step("preferences-with-a-missing-choice", "PUT", PREFERENCES, "ada", {"account_emails": True}),
    Step(
        "preferences-that-are-not-booleans",
        "PUT",
        PREFERENCES,
        "ada",
        {"account_emails": "maybe", "billing_emails": []},
    ),
    Step(
        "preferences-that-are-not-json",
        "PUT",
        PREFERENCES,
        "ada",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    ),
    Step("preferences-without-a-token", "PUT", PREFERENCES, json={"account_emails": False}),
    Step("post-the-preferences", "POST", PREFERENCES, "ada", {"account_emails": False}),
    Step("list-after-the-changes", "GET", NOTIFICATIONS, "ada"),
]


@dataclass(frozen=True, repr=False)
class Parity:
    legacy: Side
    new: Side
    credentials: dict[str, str]


def _credentials(ada: Customer, bob: Customer) -> dict[str, str]:
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    another = TokenIssuer("another-secret-with-at-least-32-bytes!", ISSUER, 3600)
    return {
        "ada": f"Bearer {ada.token}",
        "bob": f"Bearer {bob.token}",
        "a-malformed-token": "Bearer not-a-jwt",
        "a-basic-scheme": "Basic YWRhOnNlY3JldA==",
        "another-secret": f"Bearer {another.issue(ada.id, ada.email)}",
        "an-expired-token": "Bearer "
        + TokenIssuer(JWT_SECRET, ISSUER, 60).issue(ada.id, ada.email, now=an_hour_ago),
    }


@pytest.fixture
async def parity(fresh_database: FreshDatabase, broker: EmbeddedBroker) -> AsyncIterator[Parity]:
    monolith_url = await fresh_database("parity_monolith", migrate=migrate_monolith)
    service_url = await fresh_database("parity_notifications", migrate=migrate_notifications)
    sink = bootstrap_sink(SinkSettings(smtp_host="127.0.0.1", smtp_port=0))
    await sink.listener.start()
    smtp_port = sink.listener.address[1]
    monolith = create_monolith(
        MonolithSettings(
            database_url=monolith_url,
            jwt_secret=JWT_SECRET,
            operator_token=OPERATOR_TOKEN,
            kafka_bootstrap_servers=broker.bootstrap_servers,
            smtp_port=smtp_port,
        )
    )
    service = create_notifications(
        NotificationsSettings(
            database_url=service_url,
            jwt_secret=JWT_SECRET,
            operator_token=OPERATOR_TOKEN,
            kafka_bootstrap_servers=broker.bootstrap_servers,
            consumer_group=f"notifications-parity-{uuid.uuid4().hex[:10]}",
            outbox_relay_enabled=False,
            sending="on",
            smtp_port=smtp_port,
            send_poll_seconds=0.05,
        )
    )
    engine = create_engine(service_url)
    try:
        async with (
            started(monolith, "http://monolith") as legacy_client,
            started(service, "http://notifications") as new_client,
        ):
            ada = await sign_up(legacy_client, "ada")
            bob = await sign_up(legacy_client, "bob")

            async def both_welcomes_sent() -> bool:
                async with engine.connect() as connection:
                    sent = await connection.scalar(
                        select(func.count())
                        .select_from(notifications)
                        .where(
                            notifications.c.user_id.in_([ada.id, bob.id]),
                            notifications.c.status == "sent",
                        )
                    )
                return sent == 2

            await eventually(
                both_welcomes_sent, "the service sent both welcomes", WELCOME_WAIT_SECONDS
            )
            yield Parity(Side(legacy_client), Side(new_client), _credentials(ada, bob))
    finally:
        await engine.dispose()
        await sink.listener.stop()


async def test_the_service_answers_every_notifications_step_as_the_monolith_does(
    parity: Parity,
) -> None:
    outcomes = await run_script(
        SCRIPT, parity.legacy, parity.new, notifications_parity_rules(), parity.credentials
    )

    assert not any(outcome.differences for outcome in outcomes), report(outcomes)


def test_every_declared_exception_names_one_step_of_the_script() -> None:
    names = [step.name for step in SCRIPT]

    assert len(names) == len(set(names)), "step names must be unique"
    assert set(EXCEPTIONS) <= set(names), "an exception names no step"
