"""Billing's data migration in the running system, the way an operator drives it:
`strangler migrate billing backfill`, then `verify` (no drift), then `status`.

A customer subscribes and pays at the monolith through the gateway first, so there is
billing history to copy besides the seeded demo data. The system is shared with other
tests, whose changes cross between the sides by events while this one runs: `verify` is
asked until the sides agree.
"""

from __future__ import annotations

import json
import time
import uuid

import httpx
import pytest

from tests.support.running_system import RunningSystem

pytestmark = pytest.mark.e2e

GOOD_CARD = "4242 4242 4242 4242"
AGREE_WITHIN_SECONDS = 60.0


def _customer_pays_at_the_monolith(system: RunningSystem) -> str:
    email = f"migrated-{uuid.uuid4().hex[:10]}@example.com"
    with httpx.Client(base_url=system.gateway_url, timeout=30) as gateway:
        registered = gateway.post(
            "/api/users", json={"email": email, "password": "correct-horse", "name": "Mig"}
        )
        assert registered.status_code == 201, registered.text
        login = gateway.post("/api/auth/login", json={"email": email, "password": "correct-horse"})
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        created = gateway.post("/api/billing/subscriptions", json={"plan_id": "pro"}, headers=auth)
        assert created.status_code == 201, created.text
        invoice_id: str = created.json()["invoice"]["id"]
        paid = gateway.post(
            f"/api/billing/invoices/{invoice_id}/pay",
            json={"card_number": GOOD_CARD},
            headers=auth | {"Idempotency-Key": f"e2e-{uuid.uuid4().hex}"},
        )
        assert paid.status_code == 201, paid.text
    return invoice_id


def test_backfill_then_verify_finds_no_drift_and_status_shows_both_sides(
    system: RunningSystem,
) -> None:
    invoice_id = _customer_pays_at_the_monolith(system)

    backfilled = system.strangler("migrate", "billing", "backfill", timeout=120)
    assert backfilled.returncode == 0, backfilled.stdout + backfilled.stderr
    assert "backfill finished" in backfilled.stdout

    deadline = time.monotonic() + AGREE_WITHIN_SECONDS
    verified = system.strangler("migrate", "billing", "verify")
    while verified.returncode == 1 and time.monotonic() < deadline:
        time.sleep(1)
        verified = system.strangler("migrate", "billing", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "no drift" in verified.stdout

    status = system.strangler("migrate", "billing", "status")
    assert status.returncode == 0, status.stdout + status.stderr
    rows = {
        cells[0]: cells[1:]
        for line in status.stdout.splitlines()
        if len(cells := [c.strip() for c in line.strip("│┃ ").split("│")]) == 5
    }
    for entity in ("customers", "subscriptions", "invoices", "payments", "refunds"):
        legacy, billing, backfill, _ = rows[entity]
        assert legacy == billing, status.stdout
        assert backfill.startswith("finished"), status.stdout
    assert "sync monolith → billing: running" in status.stdout
    assert "sync billing → monolith: running" in status.stdout

    operator = {"Authorization": f"Bearer {system.secrets()['admin_token']}"}
    with httpx.Client(base_url=system.billing_url, timeout=30, headers=operator) as billing:
        found = billing.post("/internal/billing/records/invoices", json={"ids": [invoice_id]})
    assert [record["data"]["status"] for record in json.loads(found.text)["records"]] == ["paid"]
