"""Settings refuse to start without an admin token; the in-memory store keeps an audit trail."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from strangler_gateway import GatewaySettings, InMemoryFlagStore, Mode, RouteFlag


def test_the_admin_token_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GATEWAY_ADMIN_TOKEN", raising=False)

    with pytest.raises(ValidationError, match="admin_token"):
        GatewaySettings()


def test_settings_come_from_gateway_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_ADMIN_TOKEN", "s3cret")
    monkeypatch.setenv("GATEWAY_BILLING_URL", "http://billing.internal:9000")

    settings = GatewaySettings()

    assert settings.admin_token.get_secret_value() == "s3cret"
    assert settings.billing_url == "http://billing.internal:9000"
    assert settings.port == 8080
    assert settings.max_body_bytes == 1024 * 1024


def test_by_default_a_client_that_never_sends_its_body_is_not_held_20_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GATEWAY_ADMIN_TOKEN", "s3cret")
    monkeypatch.delenv("GATEWAY_CLIENT_BODY_TIMEOUT_SECONDS", raising=False)

    assert GatewaySettings().client_body_timeout_seconds < 20


async def test_every_change_is_recorded_with_old_and_new_values_latest_first() -> None:
    store = InMemoryFlagStore()

    await store.set_flag("billing", RouteFlag(Mode.CANARY, 10), who="ann", reason="start")
    await store.set_flag("billing", RouteFlag(Mode.CANARY, 30), who="bob", reason="ramp")
    await store.set_kill_switch(True, who="ann", reason="incident")

    billing = await store.history("billing")
    everything = await store.history()
    assert [(e.who, e.new["percent"]) for e in billing] == [("bob", 30), ("ann", 10)]
    assert billing[0].old == {
        "mode": "canary",
        "percent": 10,
        "force_new_user_ids": [],
        "force_new_email_domains": [],
    }
    assert everything[0].subject == "kill-switch"
    assert store.current().kill_switch is True
