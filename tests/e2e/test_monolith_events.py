"""The monolith's domain events, as an independent Kafka client sees them on the broker."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.support.broker_records import events_about
from tests.support.polling import eventually
from tests.support.running_system import RunningSystem

pytestmark = pytest.mark.e2e

NOTIFICATION_SENT = "dev.strangler-fig.notifications.notification-sent.v1"
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


async def test_registering_a_user_puts_a_traced_cloud_event_on_the_broker(
    system: RunningSystem,
) -> None:
    email = f"events-{uuid.uuid4().hex[:10]}@example.com"
    async with httpx.AsyncClient(base_url=system.monolith_url, timeout=30) as api:
        registered = await api.post(
            "/api/users",
            json={"email": email, "password": "correct-horse", "name": "Eve"},
            headers={"traceparent": TRACEPARENT, "X-Correlation-ID": "e2e-correlation"},
        )
    assert registered.status_code == 201, registered.text
    user_id = registered.json()["id"]

    events = await events_about(system.broker_bootstrap, "strangler.accounts", user_id, 1)

    assert len(events) == 1
    envelope, headers = events[0]
    assert envelope["specversion"] == "1.0"
    assert envelope["type"] == "dev.strangler-fig.accounts.user-registered.v1"
    assert envelope["source"] == "/legacy-monolith"
    assert envelope["correlationid"] == "e2e-correlation"
    assert envelope["data"]["email"] == email
    traceparent = headers["traceparent"].decode()
    assert traceparent.split("-")[1] == TRACEPARENT.split("-")[1], "the request's trace continues"

    # The topic also carries the user's preferences (NotificationPreferencesChanged).
    mails: list[str] = []

    async def welcomed() -> bool:
        nonlocal mails
        found = await events_about(
            system.broker_bootstrap, "strangler.notifications", user_id, 99, timeout=1
        )
        mails = [e["data"]["kind"] for e, _ in found if e["type"] == NOTIFICATION_SENT]
        return bool(mails)

    await eventually(welcomed, "the welcome mail is on the broker", 30)
    assert mails == ["welcome"]


async def test_an_outbox_replay_publishes_the_same_events_again(system: RunningSystem) -> None:
    email = f"replay-{uuid.uuid4().hex[:10]}@example.com"
    async with httpx.AsyncClient(base_url=system.monolith_url, timeout=30) as api:
        registered = await api.post(
            "/api/users", json={"email": email, "password": "correct-horse", "name": "Ray"}
        )
    user_id = registered.json()["id"]
    first = await events_about(system.broker_bootstrap, "strangler.accounts", user_id, 1)
    assert len(first) == 1
    recorded_at = first[0][0]["time"]

    replayed = system.strangler("events", "replay", "--since", recorded_at[:19])

    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert "events marked for re-publishing" in replayed.stdout
    again = await events_about(system.broker_bootstrap, "strangler.accounts", user_id, 2)
    assert [e["id"] for e, _ in again] == [first[0][0]["id"]] * 2, "same event id, twice"


def test_dlq_list_reports_an_empty_dead_letter_queue(system: RunningSystem) -> None:
    listed = system.strangler("dlq", "list")

    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "no dead letters" in listed.stdout


async def test_the_monolith_exposes_its_outbox_backlog_as_prometheus_metrics(
    system: RunningSystem,
) -> None:
    async with httpx.AsyncClient(base_url=system.monolith_url, timeout=30) as api:
        metrics = await api.get("/metrics")

    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    lines = metrics.text.splitlines()
    assert 'strangler_outbox_backlog{source="/legacy-monolith"} 0.0' in lines
    assert any(line.startswith("strangler_outbox_published_total{") for line in lines)
    assert any(
        line.startswith("strangler_outbox_oldest_unpublished_age_seconds{") for line in lines
    )
