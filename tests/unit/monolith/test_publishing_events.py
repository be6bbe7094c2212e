"""Event interception: every change the monolith commits leaves its event in the outbox."""

from __future__ import annotations

import json
from typing import Any

import httpx
from fastapi import FastAPI
from legacy_monolith.models import outbox
from legacy_monolith.runtime import Runtime
from sqlalchemy import select

from tests.support.monolith_api import (
    DECLINED_CARD,
    assert_problem,
    pay,
    refund,
    sign_up,
    sign_up_and_subscribe,
)


async def _outbox_events(
    app: FastAPI, subject: str, topic: str | None = None
) -> list[dict[str, Any]]:
    runtime: Runtime = app.root
    statement = select(outbox.c.payload, outbox.c.topic, outbox.c.key).where(
        outbox.c.key == subject
    )
    if topic is not None:
        statement = statement.where(outbox.c.topic == topic)
    async with runtime.sessions() as session:
        rows = (await session.execute(statement.order_by(outbox.c.position))).all()
    return [{**json.loads(row.payload), "_topic": row.topic, "_key": row.key} for row in rows]


def _names(events: list[dict[str, Any]]) -> list[str]:
    return [event["type"].removeprefix("dev.strangler-fig.") for event in events]


async def test_registration_records_the_user_and_the_welcome_mail_as_events(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    customer = await sign_up(client, "eventful")

    events = await _outbox_events(app, customer.id)

    assert _names(events) == [
        "accounts.user-registered.v1",
        "notifications.preferences-changed.v1",
        "notifications.notification-sent.v1",
        "accounts.user-account-changed.v1",
    ]
    registered, preferences, welcome, account = events
    assert registered["_topic"] == "strangler.accounts"
    assert registered["source"] == "/legacy-monolith"
    assert registered["data"]["email"] == customer.email
    assert "password_hash" not in registered["data"]
    assert registered["data"]["mail_sent_by"] == "legacy"
    assert account["_topic"] == "strangler.credentials"
    assert account["data"]["user_version"] == 1
    assert account["data"]["password_hash"].startswith("$argon2id$")
    assert welcome["data"]["kind"] == "welcome"
    assert (welcome["data"]["notification_version"], welcome["data"]["origin"]) == (
        1,
        "legacy-monolith",
    )
    assert welcome["data"]["body"].startswith("Hello")
    assert preferences["data"]["preferences_version"] == 1


async def test_password_and_profile_changes_publish_what_happened_and_the_account_for_auth(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    customer = await sign_up(client, "changing")
    renamed = await client.patch(
        "/api/users/me", json={"name": "Renamed Person"}, headers=customer.auth
    )
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Renamed Person"
    changed = await client.post(
        "/api/users/me/password",
        json={"current_password": customer.password, "new_password": "a-new-password"},
        headers=customer.auth,
    )
    assert changed.status_code == 204

    public = await _outbox_events(app, customer.id, "strangler.accounts")
    accounts = await _outbox_events(app, customer.id, "strangler.credentials")

    assert _names(public) == [
        "accounts.user-registered.v1",
        "accounts.user-profile-changed.v1",
        "accounts.password-changed.v1",
    ]
    assert public[1]["data"]["display_name"] == "Renamed Person"
    assert all("password_hash" not in event["data"] for event in public)
    assert [(a["data"]["change"], a["data"]["user_version"]) for a in accounts] == [
        ("registered", 1),
        ("profile-changed", 2),
        ("password-changed", 3),
    ]
    assert accounts[-1]["data"]["password_hash"] != accounts[0]["data"]["password_hash"]
    assert {a["data"]["origin"] for a in accounts} == {"legacy-monolith"}


async def test_a_customers_billing_history_is_recorded_in_order_under_their_id(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    subscriber = await sign_up_and_subscribe(client, "history")
    declined = await pay(client, subscriber.customer, subscriber.invoice_id, DECLINED_CARD)
    assert_problem(declined, 402, "card-declined")
    assert (await pay(client, subscriber.customer, subscriber.invoice_id)).status_code == 201
    assert (await refund(client, subscriber.customer, subscriber.invoice_id)).status_code == 201
    cancelled = await client.post(
        f"/api/billing/subscriptions/{subscriber.subscription_id}/cancel",
        headers=subscriber.customer.auth,
    )
    assert cancelled.status_code == 200

    events = await _outbox_events(app, subscriber.customer.id, "strangler.billing")

    assert _names(events) == [
        "billing.subscription-started.v1",
        "billing.invoice-issued.v1",
        "billing.payment-failed.v1",
        "billing.payment-succeeded.v1",
        "billing.refund-issued.v1",
        "billing.subscription-cancelled.v1",
    ]
    assert {event["_topic"] for event in events} == {"strangler.billing"}
    assert events[2]["data"]["failure_code"] == "generic_decline"
    assert events[4]["data"]["invoice_refunded_cents"] == 2900


async def test_a_rejected_request_records_no_event(app: FastAPI, client: httpx.AsyncClient) -> None:
    customer = await sign_up(client, "twice")
    before = await _outbox_size(app)

    duplicate = await client.post(
        "/api/users",
        json={"email": customer.email, "password": "another-password", "name": "Twice"},
    )

    assert_problem(duplicate, 409, "duplicate-email")
    assert await _outbox_size(app) == before


async def _outbox_size(app: FastAPI) -> int:
    runtime: Runtime = app.root
    async with runtime.sessions() as session:
        return len((await session.execute(select(outbox.c.position))).all())
