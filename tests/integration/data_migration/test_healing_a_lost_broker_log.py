"""When the broker loses its log, billing's two sides converge again without a person:
the relays publish their outboxes again, the sync waits for what a change depends on, and
the documented repair, a backfill from scratch, works on whatever state the loss left."""

from __future__ import annotations

import pytest

from tests.integration.data_migration.conftest import (
    Launch,
    backfill,
    cancel,
    drift,
)
from tests.support.monolith_api import sign_up, subscribe

pytestmark = pytest.mark.integration

MAX_RESUBSCRIPTIONS = 20


async def test_a_backfill_from_scratch_repairs_a_side_holding_a_subscription_since_replaced(
    launch: Launch,
) -> None:
    async with launch() as sides:
        customer = await sign_up(sides.monolith, "resubscribes")
        first = (await subscribe(sides.monolith, customer, "pro"))["subscription"]["id"]
        await backfill(sides.billing)
        # The cancellation never reached billing (lost with the log); the newer subscription
        # sorts before the one billing still holds as active, so the backfill meets it first.
        replacement = first
        for _ in range(MAX_RESUBSCRIPTIONS):
            await cancel(sides.monolith, customer, replacement)
            replacement = (await subscribe(sides.monolith, customer, "starter"))["subscription"][
                "id"
            ]
            if replacement < first:
                break
        assert replacement < first

        await backfill(sides.billing, restart=True)

        assert await drift(sides) == []
