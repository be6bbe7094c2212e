"""One invoice paid at the same moment on the monolith and on the billing service, with
different Idempotency-Keys (a canary moving a customer mid-click, or a client retrying on the
other side): the card is charged once, and neither side ends up holding two successful
payments of the invoice."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import text

from tests.integration.data_migration.conftest import Databases, Launch, in_sync
from tests.support.monolith_api import GOOD_CARD, new_key, pay, sign_up, subscribe
from tests.support.polling import eventually

pytestmark = pytest.mark.integration

ANOTHER_GOOD_CARD = "5555555555554444"
SYNC_WITHIN_SECONDS = 60.0


async def _succeeded_payments(databases: Databases, invoice_id: str) -> tuple[int, int]:
    """How many successful payments of the invoice the monolith and billing each hold."""
    query = text("SELECT count(*) FROM payments WHERE invoice_id = :id AND status = 'succeeded'")
    counts = []
    for engine in (databases.monolith, databases.billing):
        async with engine.connect() as connection:
            counts.append(int(await connection.scalar(query, {"id": invoice_id}) or 0))
    return counts[0], counts[1]


@pytest.mark.parametrize("billing_card", [GOOD_CARD, ANOTHER_GOOD_CARD], ids=["same", "other"])
async def test_an_invoice_paid_on_both_sides_at_once_is_charged_once(
    launch: Launch,
    databases: Databases,
    payment_simulator: httpx.AsyncClient,
    billing_card: str,
) -> None:
    async with launch(events=True, legacy_sync=True, acl=True) as sides:
        customer = await sign_up(sides.monolith, "twice")
        invoice_id = (await subscribe(sides.monolith, customer, "pro"))["invoice"]["id"]

        async def billing_knows_the_invoice() -> bool:
            answer = await sides.billing.get(
                f"/api/billing/invoices/{invoice_id}", headers=customer.auth
            )
            return answer.status_code == 200

        await eventually(
            billing_knows_the_invoice, "the invoice reached billing", SYNC_WITHIN_SECONDS
        )

        at_monolith, at_billing = await asyncio.gather(
            pay(sides.monolith, customer, invoice_id, GOOD_CARD, key=new_key()),
            pay(sides.billing, customer, invoice_id, billing_card, key=new_key()),
        )
        await in_sync(sides)

    answers = [at_monolith, at_billing]
    assert sorted(a.status_code for a in answers) in ([201, 201], [201, 409]), [
        a.text for a in answers
    ]
    for answer in answers:
        if answer.status_code == 409:
            assert answer.json()["type"].endswith("/payment-in-progress")
    charges = (await payment_simulator.get("/v1/charges", params={"limit": 100})).json()
    of_invoice = [c for c in charges["items"] if c["description"] == f"Invoice {invoice_id}"]
    assert [c["status"] for c in of_invoice] == ["succeeded"]
    assert await _succeeded_payments(databases, invoice_id) == (1, 1)
