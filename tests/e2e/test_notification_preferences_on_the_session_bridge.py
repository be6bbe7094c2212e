"""A user who signs in at the auth service keeps their notification preferences: with
`/api/auth` moved to auth (an EdDSA token) and `/api/notifications/preferences` moved to the
notifications service, they read and change their preferences through the gateway, and the
notifications service answers them directly too, with the same token.

The system is shared by the session: both routes go back to legacy whatever happens.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import jwt
import pytest

from tests.support.monolith_api import log_in, register
from tests.support.polling import eventually
from tests.support.running_system import RunningSystem

pytestmark = pytest.mark.e2e

PASSWORD = "correct-horse-preferences"
ROUTES = ("auth", "notification-preferences")
PREFERENCES = "/api/notifications/preferences"
FLIP_SECONDS = 15.0


@pytest.fixture
def routes_back_on_legacy(system: RunningSystem) -> Iterator[None]:
    """Whatever the test does, both routes end on legacy, as the other tests expect."""
    yield
    for route in ROUTES:
        system.strangler("flags", "set", route, "legacy", "--clear-targeting")


async def test_a_user_signed_in_at_auth_reads_and_changes_preferences_through_the_gateway(
    system: RunningSystem, routes_back_on_legacy: None
) -> None:
    email = f"prefs-{uuid.uuid4().hex[:10]}@example.com"
    async with (
        httpx.AsyncClient(base_url=system.gateway_url, timeout=30) as gateway,
        httpx.AsyncClient(base_url=system.notifications_url, timeout=30) as notifications,
    ):
        registered = await register(gateway, email, PASSWORD, "Pref Keeper")
        assert registered.status_code == 201, registered.text
        system.strangler_ok("migrate", "auth", "backfill", timeout=120)
        for route in ROUTES:
            system.strangler_ok("flags", "set", route, "new", "--reason", "e2e: preferences")

        tokens: list[str] = []

        async def signed_in_at_auth() -> bool:
            answer = await log_in(gateway, email, PASSWORD)
            if answer.status_code != 200 or answer.headers.get("x-strangler-target") != "new":
                return False
            tokens.append(answer.json()["access_token"])
            return True

        await eventually(signed_in_at_auth, "a login answered by auth", within=FLIP_SECONDS)
        token = tokens[-1]
        assert jwt.get_unverified_header(token)["alg"] == "EdDSA"
        bearer = {"Authorization": f"Bearer {token}"}

        async def served_by_notifications() -> bool:
            answer = await gateway.get(PREFERENCES, headers=bearer)
            return answer.status_code == 200 and answer.headers.get("x-strangler-target") == "new"

        await eventually(
            served_by_notifications, "preferences served by notifications", within=FLIP_SECONDS
        )
        changed = await gateway.put(
            PREFERENCES, headers=bearer, json={"account_emails": True, "billing_emails": False}
        )
        assert changed.status_code == 200, changed.text
        assert changed.headers["x-strangler-target"] == "new"

        for answer in (
            await gateway.get(PREFERENCES, headers=bearer),
            await notifications.get(PREFERENCES, headers=bearer),
        ):
            assert answer.status_code == 200, answer.text
            assert (answer.json()["account_emails"], answer.json()["billing_emails"]) == (
                True,
                False,
            )
