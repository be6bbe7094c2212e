"""A real provider never forgets: with a state file, a restarted simulator still holds its
charges and refunds and answers a replayed Idempotency-Key with its first answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from payment_simulator.app import create_app
from payment_simulator.settings import Settings

CHARGE = {"amount": 2900, "currency": "eur", "card_number": "4242424242424242"}
DECLINED = {**CHARGE, "card_number": "4000000000000002"}


@asynccontextmanager
async def _simulator(state: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A simulator process's worth of app on the state file: a new one is a restart."""
    app = create_app(Settings(hang_seconds=0.05, state_path=state))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://paysim.test") as client:
        yield client


async def _post(client: httpx.AsyncClient, path: str, key: str, body: object) -> httpx.Response:
    return await client.post(path, json=body, headers={"Idempotency-Key": key})


async def test_a_key_replayed_after_a_restart_gets_the_first_answer_and_no_second_charge(
    tmp_path: Path,
) -> None:
    state = tmp_path / "payment-simulator.db"
    async with _simulator(state) as before:
        charged = await _post(before, "/v1/charges", "pay-1", CHARGE)
        declined = await _post(before, "/v1/charges", "pay-2", DECLINED)
        refunded = await _post(
            before, "/v1/refunds", "refund-1", {"charge_id": charged.json()["id"], "amount": 900}
        )

    async with _simulator(state) as after:
        charged_again = await _post(after, "/v1/charges", "pay-1", CHARGE)
        declined_again = await _post(after, "/v1/charges", "pay-2", DECLINED)
        refunded_again = await _post(
            after, "/v1/refunds", "refund-1", {"charge_id": charged.json()["id"], "amount": 900}
        )
        reused = await _post(after, "/v1/charges", "pay-1", {**CHARGE, "amount": 1})
        ledger = (await after.get("/v1/charges")).json()
        charge = (await after.get(f"/v1/charges/{charged.json()['id']}")).json()

    assert (charged.status_code, declined.status_code, refunded.status_code) == (201, 402, 201)
    for first, again in ((charged, charged_again), (declined, declined_again)):
        assert (again.status_code, again.json()) == (first.status_code, first.json())
        assert again.headers["Idempotent-Replayed"] == "true"
    assert refunded_again.json() == refunded.json()
    assert reused.status_code == 422
    assert ledger["total"] == 2
    assert [c["status"] for c in ledger["items"]] == ["failed", "succeeded"]
    assert charge["amount_refunded"] == 900


async def test_without_a_state_file_a_new_simulator_starts_with_an_empty_ledger() -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(Settings())), base_url="http://paysim.test"
    ) as client:
        assert (await client.get("/v1/charges")).json()["total"] == 0
