"""Flags as data: the admin API, the audit trail, and replicas sharing one database."""

from __future__ import annotations

import pytest
from http_platform.loops import LoopSupervisor
from strangler_gateway import Mode, RouteFlag, SqlFlagStore
from strangler_persistence import create_engine

from tests.support.polling import eventually

from .conftest import ADMIN_TOKEN, GatewayFactory

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}", "X-Strangler-Actor": "workshop-host"}


async def test_the_admin_api_refuses_a_missing_or_wrong_token(gateway: GatewayFactory) -> None:
    async with gateway() as client:
        missing = await client.operator.get("/_strangler/flags")
        wrong = await client.operator.get(
            "/_strangler/flags", headers={"Authorization": "Bearer nope"}
        )

    assert missing.status_code == 401
    assert missing.json()["type"].endswith("/operator-token-required")
    assert wrong.status_code == 403
    assert wrong.headers["content-type"] == "application/problem+json"
    assert wrong.json()["type"].endswith("/operator-token-wrong")


async def test_setting_a_flag_through_the_admin_api_moves_traffic_and_is_audited(
    gateway: GatewayFactory,
) -> None:
    async with gateway() as client:
        before = await client.get("/api/billing/x", headers={"Cookie": "strangler_uid=u1"})
        changed = await client.operator.put(
            "/_strangler/flags/billing",
            json={"mode": "new", "reason": "service is ready"},
            headers=ADMIN,
        )
        after = await client.get("/api/billing/x", headers={"Cookie": "strangler_uid=u1"})
        history = await client.operator.get(
            "/_strangler/flags/history?route=billing", headers=ADMIN
        )

    assert before.json()["side"] == "legacy"
    assert changed.status_code == 200
    billing = next(f for f in changed.json()["flags"] if f["route"] == "billing")
    assert billing["mode"] == "new"
    assert after.json()["side"] == "new"
    [entry] = history.json()
    assert entry["who"] == "workshop-host"
    assert entry["new"]["mode"] == "new"
    assert entry["reason"] == "service is ready"


async def test_the_admin_api_refuses_an_unknown_route_or_a_bad_percentage(
    gateway: GatewayFactory,
) -> None:
    async with gateway() as client:
        unknown = await client.operator.put(
            "/_strangler/flags/nope", json={"mode": "new"}, headers=ADMIN
        )
        bad = await client.operator.put(
            "/_strangler/flags/billing", json={"mode": "canary", "percent": 130}, headers=ADMIN
        )

    assert unknown.status_code == 404
    assert bad.status_code == 422


async def test_the_kill_switch_through_the_admin_api_sends_everything_to_legacy(
    gateway: GatewayFactory,
) -> None:
    async with gateway() as client:
        await client.operator.put("/_strangler/flags/billing", json={"mode": "new"}, headers=ADMIN)
        switched = await client.operator.post(
            "/_strangler/kill-switch", json={"state": "on", "reason": "incident"}, headers=ADMIN
        )
        response = await client.get("/api/billing/x")

    assert switched.json()["kill_switch"] is True
    assert response.json()["side"] == "legacy"
    assert response.headers["x-strangler-reason"] == "kill-switch"


async def test_health_routes_answer_beside_the_proxy(gateway: GatewayFactory) -> None:
    async with gateway() as client:
        live = await client.get("/health/live")

    assert live.json()["component"] == "gateway"


@pytest.fixture
def database_url(flag_database: str) -> str:
    return flag_database


async def test_a_change_on_one_replica_reaches_another_within_a_poll(database_url: str) -> None:
    writer = SqlFlagStore(create_engine(database_url), poll_seconds=0.1)
    reader = SqlFlagStore(create_engine(database_url), poll_seconds=0.1)
    await writer.start()
    await reader.start()
    try:
        async with LoopSupervisor("gateway").running({"flag-poller": reader.follow}):
            await writer.set_flag(
                "billing", RouteFlag(Mode.CANARY, 30), who="ops", reason="ramp to 30"
            )
            await writer.set_kill_switch(True, who="ops", reason="drill")

            await eventually(
                lambda: (
                    reader.current().flag("billing").percent == 30 and reader.current().kill_switch
                ),
                "the other replica reads the new flag and the kill switch",
                within=5.0,
                every=0.05,
            )
        history = await reader.history()
    finally:
        await reader.close()
        await writer.close()

    assert [(e.subject, e.who, e.reason) for e in history] == [
        ("kill-switch", "ops", "drill"),
        ("billing", "ops", "ramp to 30"),
    ]
    assert history[1].old is None
    assert history[1].new["percent"] == 30


async def test_flags_survive_a_restart_and_the_audit_keeps_old_and_new(database_url: str) -> None:
    first = SqlFlagStore(create_engine(database_url))
    await first.start()
    await first.set_flag("users", RouteFlag(Mode.CANARY, 10), who="ops", reason="start")
    await first.set_flag("users", RouteFlag(Mode.CANARY, 50), who="ops", reason="ramp")
    await first.close()

    second = SqlFlagStore(create_engine(database_url))
    await second.start()
    try:
        flag = second.current().flag("users")
        [latest, _] = await second.history("users")
    finally:
        await second.close()

    assert (flag.mode, flag.percent) == (Mode.CANARY, 50)
    assert latest.old is not None
    assert (latest.old["percent"], latest.new["percent"]) == (10, 50)


async def test_the_gateway_reads_its_flags_from_its_database_by_default(
    gateway: GatewayFactory, database_url: str
) -> None:
    store = SqlFlagStore(create_engine(database_url))
    await store.start()
    await store.set_flag("billing", RouteFlag(Mode.NEW), who="ops", reason="")
    await store.close()

    async with gateway(database_url=database_url, use_database=True) as client:
        response = await client.get("/api/billing/x")

    assert response.json()["side"] == "new"
