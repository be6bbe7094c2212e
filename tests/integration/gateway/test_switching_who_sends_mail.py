"""The ``mail`` flag: a side-effect flag beside the route flags, switched and audited through
the admin API, and read back by a service the way the monolith reads it."""

from __future__ import annotations

import asyncio

from strangler_flags import MAIL, GatewayFlagPoller, RequestFacts, Target, decide

from tests.support.polling import eventually

from .conftest import ADMIN_TOKEN, GatewayFactory

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}", "X-Strangler-Actor": "workshop-host"}


def _mail(view: dict[str, object]) -> dict[str, object]:
    effects = view["side_effects"]
    assert isinstance(effects, list)
    [mail] = [effect for effect in effects if effect["name"] == MAIL]
    assert isinstance(mail, dict)
    return mail


async def test_mail_starts_with_the_monolith_and_moves_to_the_service_audited(
    gateway: GatewayFactory,
) -> None:
    async with gateway() as client:
        before = (await client.operator.get("/_strangler/flags", headers=ADMIN)).json()
        changed = await client.operator.put(
            "/_strangler/flags/mail",
            json={"mode": "new", "reason": "notifications sends from events"},
            headers=ADMIN,
        )
        history = await client.operator.get("/_strangler/flags/history?route=mail", headers=ADMIN)

    assert _mail(before)["mode"] == "legacy"
    assert "monolith" in str(_mail(before)["legacy"])
    assert changed.status_code == 200
    assert _mail(changed.json())["mode"] == "new"
    assert all(flag["route"] != MAIL for flag in changed.json()["flags"])
    [entry] = history.json()
    assert (entry["who"], entry["subject"], entry["reason"]) == (
        "workshop-host",
        MAIL,
        "notifications sends from events",
    )
    assert (entry["old"], entry["new"]["mode"]) == (None, "new")


async def test_mail_is_never_shadowed_or_split_by_percentage(gateway: GatewayFactory) -> None:
    async with gateway() as client:
        shadow = await client.operator.put(
            "/_strangler/flags/mail", json={"mode": "shadow"}, headers=ADMIN
        )
        canary = await client.operator.put(
            "/_strangler/flags/mail", json={"mode": "canary", "percent": 50}, headers=ADMIN
        )
        after = (await client.operator.get("/_strangler/flags", headers=ADMIN)).json()

    for refused in (shadow, canary):
        assert refused.status_code == 422
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["type"].endswith("/side-effect-mode")
    assert _mail(after)["mode"] == "legacy"


async def test_a_service_following_the_gateway_sees_the_flip_and_the_kill_switch(
    gateway: GatewayFactory,
) -> None:
    async with gateway() as client:
        poller = GatewayFlagPoller(
            str(client.operator.base_url), ADMIN_TOKEN, poll_seconds=0.05, actor="monolith"
        )
        stop = asyncio.Event()
        following = asyncio.create_task(poller.run(stop))
        facts = RequestFacts(user_key="user-1", user_id="user-1")

        def sender() -> Target | None:
            state = poller.current()
            if state is None:
                return None
            return decide(state.flag(MAIL), state.kill_switch, facts).target

        try:
            await eventually(lambda: sender() is Target.LEGACY, "the first read: legacy", within=5)
            await client.operator.put("/_strangler/flags/mail", json={"mode": "new"}, headers=ADMIN)
            await eventually(lambda: sender() is Target.NEW, "the flip to new is read", within=5)
            await client.operator.post(
                "/_strangler/kill-switch", json={"state": "on"}, headers=ADMIN
            )
            await eventually(
                lambda: sender() is Target.LEGACY, "the kill switch brings it back", within=5
            )
        finally:
            stop.set()
            await asyncio.wait_for(following, 5)
