"""The e-mails a customer was sent, and the preferences that suppress them."""

from __future__ import annotations

import httpx
from legacy_monolith.notifications.mailer import RecordingMailer

from tests.support.monolith_api import (
    Subscriber,
    assert_problem,
    log_in,
    pay,
    register,
    sign_up,
    unique_email,
)


async def test_notifications_are_listed_newest_first_in_pages(
    client: httpx.AsyncClient, subscriber: Subscriber
) -> None:
    await pay(client, subscriber.customer, subscriber.invoice_id)
    auth = subscriber.customer.auth

    first = await client.get("/api/notifications?limit=2", headers=auth)
    second = await client.get("/api/notifications?limit=2&offset=2", headers=auth)

    assert (first.json()["total"], first.json()["limit"], first.json()["offset"]) == (3, 2, 0)
    assert [n["kind"] for n in first.json()["items"]] == ["payment_succeeded", "invoice_issued"]
    assert [n["kind"] for n in second.json()["items"]] == ["welcome"]
    assert {n["status"] for n in first.json()["items"] + second.json()["items"]} == {"sent"}


async def test_a_notification_is_readable_by_its_recipient_only(
    client: httpx.AsyncClient, subscriber: Subscriber
) -> None:
    stranger = await sign_up(client, "stranger")
    listed = await client.get("/api/notifications", headers=subscriber.customer.auth)
    newest = listed.json()["items"][0]

    mine = await client.get(f"/api/notifications/{newest['id']}", headers=subscriber.customer.auth)
    theirs = await client.get(f"/api/notifications/{newest['id']}", headers=stranger.auth)

    assert mine.json() == newest
    assert_problem(theirs, 404, "not-found")


async def test_every_email_is_wanted_until_the_customer_opts_out(
    client: httpx.AsyncClient, subscriber: Subscriber
) -> None:
    response = await client.get("/api/notifications/preferences", headers=subscriber.customer.auth)

    assert response.status_code == 200
    assert (response.json()["account_emails"], response.json()["billing_emails"]) == (True, True)


async def test_opting_out_of_billing_mail_records_it_as_suppressed_and_sends_nothing(
    client: httpx.AsyncClient, subscriber: Subscriber, mailer: RecordingMailer
) -> None:
    auth = subscriber.customer.auth

    updated = await client.put(
        "/api/notifications/preferences",
        json={"account_emails": True, "billing_emails": False},
        headers=auth,
    )
    await pay(client, subscriber.customer, subscriber.invoice_id)

    assert updated.status_code == 200
    assert (updated.json()["account_emails"], updated.json()["billing_emails"]) == (True, False)
    stored = await client.get("/api/notifications/preferences", headers=auth)
    assert stored.json()["billing_emails"] is False
    listed = await client.get("/api/notifications", headers=auth)
    assert [(n["kind"], n["status"]) for n in listed.json()["items"]] == [
        ("payment_succeeded", "suppressed"),
        ("invoice_issued", "sent"),
        ("welcome", "sent"),
    ]
    assert listed.json()["items"][0]["sent_at"] is None
    assert mailer.sent == []


async def test_a_failing_mail_server_does_not_fail_registration(
    client: httpx.AsyncClient, mailer: RecordingMailer
) -> None:
    mailer.fail_with = "down"
    email = unique_email()

    response = await register(client, email)

    assert response.status_code == 201
    assert mailer.sent == []
    token = (await log_in(client, email)).json()["access_token"]
    listed = await client.get("/api/notifications", headers={"Authorization": f"Bearer {token}"})
    assert [(n["kind"], n["status"], n["sent_at"]) for n in listed.json()["items"]] == [
        ("welcome", "failed", None)
    ]
