"""Billing served from a 50 % canary while customers use it, in the running system, the way
an operator moves it: backfill, `strangler flags set billing canary --percent 50`, traffic
through the gateway on :8080, then `strangler migrate billing verify`.

Each customer lands on the side their bucket picks (the SHA-256 of their token's subject,
``strangler_flags.bucket_of``): half of them are served by the monolith, half by the billing
service; checkouts are always billing's (a born-new route), so a customer on the monolith's
side who checks out is served by both. Once the two-way sync has settled, both sides hold
every customer's subscriptions and invoices alike, and the reconciliation finds no drift.

The system is shared by the session: billing goes back to legacy whatever happens, and
every e-mail is new.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest
from strangler_flags import bucket_of

from tests.support.running_system import RunningSystem

pytestmark = pytest.mark.e2e

CANARY_PERCENT = 50
CUSTOMERS = 12
AT_LEAST_ON_EACH_SIDE = 4  # every script runs on each side
MAX_REGISTRATIONS = 40
GOOD_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"
PASSWORD = "correct-horse"
WITHIN_SECONDS = 60.0
POLL_SECONDS = 0.3
ENDED = {"completed", "compensated", "compensation_failed"}


async def _wait_for(
    observe: Callable[[], Awaitable[tuple[bool, str]]], what: str, within: float = WITHIN_SECONDS
) -> float:
    """Poll ``observe()`` (done?, what it saw) until done; its last sighting in the failure."""
    began = time.monotonic()
    done, seen = await observe()
    while not done:
        waited = time.monotonic() - began
        if waited > within:
            raise AssertionError(f"{what}: not after {waited:.1f} s (limit {within:g} s); {seen}")
        await asyncio.sleep(POLL_SECONDS)
        done, seen = await observe()
    return time.monotonic() - began


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


@pytest.fixture
def billing_back_on_legacy(system: RunningSystem) -> Iterator[None]:
    """Whatever the test does, billing ends on legacy, as the other tests expect it."""
    yield
    system.strangler("flags", "set", "billing", "legacy", "--clear-targeting")


@dataclass(frozen=True)
class Customer:
    """A registered customer, the side of the canary their bucket picks, and their way in."""

    id: str
    email: str
    token: str
    bucket: int

    @property
    def side(self) -> str:
        return "new" if self.bucket < CANARY_PERCENT else "legacy"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Gateway:
    """Requests through :8080 as a customer; every answer must come from their side."""

    def __init__(self, client: httpx.AsyncClient, system: RunningSystem) -> None:
        self.client = client
        self.system = system

    async def call(
        self,
        customer: Customer,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        expect: int = 200,
        born_new: bool = False,
    ) -> dict[str, Any]:
        headers = customer.auth | {"Idempotency-Key": f"e2e-{uuid.uuid4().hex}"}
        answer = await self.client.request(method, path, json=body, headers=headers)
        where = (answer.headers.get("x-strangler-target"), answer.headers.get("x-strangler-reason"))
        expected = ("new", "route:born-new")
        if not born_new:
            expected = (customer.side, f"flag:canary-bucket-{customer.bucket}")
        if where != expected:
            history = self.system.strangler("flags", "history", "billing", "--limit", "3").stdout
            raise AssertionError(
                f"{method} {path} of {customer.email} (bucket {customer.bucket}) was served by "
                f"{where}, not {expected}; the billing flag's latest changes:\n{history}"
            )
        assert answer.status_code == expect, f"{method} {path}: {answer.text}"
        document: dict[str, Any] = answer.json()
        return document


async def _registered(gateway: httpx.AsyncClient) -> Customer:
    email = f"canary-{uuid.uuid4().hex[:12]}@example.com"
    registered = await gateway.post(
        "/api/users", json={"email": email, "password": PASSWORD, "name": "Canary"}
    )
    assert registered.status_code == 201, registered.text
    login = await gateway.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    user_id: str = registered.json()["id"]
    return Customer(user_id, email, login.json()["access_token"], bucket_of(user_id))


async def _customers_on_both_sides(gateway: httpx.AsyncClient) -> list[Customer]:
    """``CUSTOMERS`` registered through the gateway, more if one side has too few of them."""
    customers: list[Customer] = []
    for _ in range(MAX_REGISTRATIONS):
        sides = [c.side for c in customers]
        enough = min(sides.count("new"), sides.count("legacy")) >= AT_LEAST_ON_EACH_SIDE
        if len(customers) >= CUSTOMERS and enough:
            return customers
        customers.append(await _registered(gateway))
    raise AssertionError(f"{MAX_REGISTRATIONS} registrations, sides {sorted(sides)}")


# What customers do, each through the gateway, on their side of the canary.


async def _pays_and_is_partly_refunded(gateway: Gateway, customer: Customer) -> None:
    created = await gateway.call(
        customer, "POST", "/api/billing/subscriptions", {"plan_id": "pro"}, expect=201
    )
    invoice = created["invoice"]["id"]
    card = {"card_number": GOOD_CARD}
    await gateway.call(customer, "POST", f"/api/billing/invoices/{invoice}/pay", card, expect=201)
    refund = {"amount_cents": 900}
    await gateway.call(
        customer, "POST", f"/api/billing/invoices/{invoice}/refund", refund, expect=201
    )


async def _pays_then_cancels(gateway: Gateway, customer: Customer) -> None:
    created = await gateway.call(
        customer, "POST", "/api/billing/subscriptions", {"plan_id": "starter"}, expect=201
    )
    card = {"card_number": GOOD_CARD}
    path = f"/api/billing/invoices/{created['invoice']['id']}/pay"
    await gateway.call(customer, "POST", path, card, expect=201)
    path = f"/api/billing/subscriptions/{created['subscription']['id']}/cancel"
    await gateway.call(customer, "POST", path)


async def _is_declined_then_pays_and_is_refunded(gateway: Gateway, customer: Customer) -> None:
    created = await gateway.call(
        customer, "POST", "/api/billing/subscriptions", {"plan_id": "business"}, expect=201
    )
    path = f"/api/billing/invoices/{created['invoice']['id']}"
    await gateway.call(customer, "POST", f"{path}/pay", {"card_number": DECLINED_CARD}, expect=402)
    await gateway.call(customer, "POST", f"{path}/pay", {"card_number": GOOD_CARD}, expect=201)
    await gateway.call(customer, "POST", f"{path}/refund", {}, expect=201)


async def _checks_out_then_cancels(gateway: Gateway, customer: Customer) -> None:
    """The checkout is billing's; the cancellation is the customer's side's, once the
    checkout's subscription has reached it."""
    body = {"plan_id": "pro", "card_number": GOOD_CARD}
    started = await gateway.call(
        customer, "POST", "/api/billing/checkout", body, expect=202, born_new=True
    )
    seen: list[dict[str, Any]] = []

    async def ended() -> tuple[bool, str]:
        path = f"/api/billing/checkout/{started['id']}"
        seen.append(await gateway.call(customer, "GET", path, born_new=True))
        return seen[-1]["status"] in ENDED, seen[-1]["status"]

    await _wait_for(ended, f"the checkout of {customer.email} ends")
    assert seen[-1]["status"] == "completed", seen[-1]
    subscription = f"/api/billing/subscriptions/{seen[-1]['subscription_id']}"

    async def active_on_its_side() -> tuple[bool, str]:
        answer = await gateway.client.get(subscription, headers=customer.auth)
        return answer.status_code == 200 and answer.json()["status"] == "active", answer.text

    await _wait_for(active_on_its_side, f"the checkout reaches the {customer.side} side")
    await gateway.call(customer, "POST", f"{subscription}/cancel")


Script = Callable[[Gateway, Customer], Awaitable[None]]
SCRIPTS: tuple[Script, ...] = (
    _pays_and_is_partly_refunded,
    _checks_out_then_cancels,
    _is_declined_then_pays_and_is_refunded,
    _pays_then_cancels,
)
EXPECTED: dict[Script, tuple[list[str], list[tuple[str, int, int]]]] = {
    _pays_and_is_partly_refunded: (["active"], [("partially_refunded", 2900, 900)]),
    _checks_out_then_cancels: (["cancelled"], [("paid", 2900, 0)]),
    _is_declined_then_pays_and_is_refunded: (["active"], [("refunded", 9900, 9900)]),
    _pays_then_cancels: (["cancelled"], [("paid", 900, 0)]),
}


def _each_script_on_each_side(customers: list[Customer]) -> list[Script]:
    """Each customer's script: the scripts in turn among the customers of each side."""
    seen = {"new": 0, "legacy": 0}
    scripts = []
    for customer in customers:
        scripts.append(SCRIPTS[seen[customer.side] % len(SCRIPTS)])
        seen[customer.side] += 1
    return scripts


# Reading each side directly, not through the gateway.


def _instant(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


async def _holdings(client: httpx.AsyncClient, customer: Customer) -> dict[str, list[Any]]:
    """The customer's subscriptions and invoices as one side answers them: ids, statuses,
    amounts and the instants that matter, in id order."""
    subscriptions = await client.get("/api/billing/subscriptions", headers=customer.auth)
    invoices = await client.get("/api/billing/invoices", headers=customer.auth)
    assert subscriptions.status_code == invoices.status_code == 200, (
        subscriptions.text + invoices.text
    )
    return {
        "subscriptions": sorted(
            (s["id"], s["plan_id"], s["status"], _instant(s["cancelled_at"]))
            for s in subscriptions.json()["items"]
        ),
        "invoices": sorted(
            (
                i["id"],
                i["subscription_id"],
                i["status"],
                i["amount_cents"],
                i["amount_refunded_cents"],
                _instant(i["paid_at"]),
            )
            for i in invoices.json()["items"]
        ),
    }


async def test_a_50_percent_canary_under_traffic_leaves_both_sides_holding_the_same_billing(
    system: RunningSystem, billing_back_on_legacy: None
) -> None:
    # As an operator opens a canary: first copy what the sync does not carry (the seeded
    # data, a payment the provider never answered), then move half of the customers.
    _ok(system.strangler("migrate", "billing", "backfill", "--restart", timeout=120))
    flags = _ok(
        system.strangler(
            "flags", "set", "billing", "canary", "--percent", str(CANARY_PERCENT),
            "--reason", "e2e: half of billing's customers to the service",
        )
    )  # fmt: skip
    billing_flag = next(line for line in flags.splitlines() if "billing" in line)
    assert "canary" in billing_flag, flags
    assert f"{CANARY_PERCENT} %" in billing_flag, flags

    async with (
        httpx.AsyncClient(base_url=system.gateway_url, timeout=30) as client,
        httpx.AsyncClient(base_url=system.monolith_url, timeout=30) as monolith,
        httpx.AsyncClient(
            base_url=system.billing_url,
            timeout=30,
            headers={"Authorization": f"Bearer {system.secrets()['admin_token']}"},
        ) as billing,
    ):
        customers = await _customers_on_both_sides(client)

        async def billing_knows_everyone() -> tuple[bool, str]:
            ids = [c.id for c in customers]
            answer = await billing.post("/internal/billing/records/customers", json={"ids": ids})
            known = len(answer.json()["records"])
            return known == len(ids), f"{known} of {len(ids)} registrations reached billing"

        await _wait_for(billing_knows_everyone, "billing knows every customer")
        gateway = Gateway(client, system)
        scripts = _each_script_on_each_side(customers)
        began = time.monotonic()
        await asyncio.gather(*(run(gateway, c) for run, c in zip(scripts, customers, strict=True)))
        traffic_seconds = time.monotonic() - began

        async def both_sides_agree() -> tuple[bool, str]:
            differing = []
            for customer in customers:
                legacy = await _holdings(monolith, customer)
                new = await _holdings(billing, customer)
                if legacy != new:
                    differing.append(f"{customer.email}: monolith {legacy}, billing {new}")
            return differing == [], "; ".join(differing)

        settled = await _wait_for(
            both_sides_agree,
            f"both sides alike for every customer, after {traffic_seconds:.1f} s of traffic",
        )
        held = {c.id: await _holdings(billing, c) for c in customers}

    asked = time.monotonic()
    verified = system.strangler("migrate", "billing", "verify")
    while verified.returncode == 1 and time.monotonic() - asked < WITHIN_SECONDS:
        time.sleep(1)  # a change of another test may still be crossing
        verified = system.strangler("migrate", "billing", "verify")
    assert verified.returncode == 0, (
        f"verify, asked for {time.monotonic() - asked:.1f} s once the customers' billing agreed "
        f"({settled:.1f} s after the traffic):\n{verified.stdout}{verified.stderr}"
    )
    assert "no drift" in verified.stdout

    for customer, script in zip(customers, scripts, strict=True):
        subscriptions, invoices = EXPECTED[script]
        assert [s[2] for s in held[customer.id]["subscriptions"]] == subscriptions, customer
        assert [i[2:5] for i in held[customer.id]["invoices"]] == invoices, customer
