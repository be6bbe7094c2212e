"""The backfill copies the monolith's billing data to the billing service through the
monolith's export API — never its tables — resumably and idempotently."""

from __future__ import annotations

import pytest
from legacy_monolith.models import User
from sqlalchemy import select
from strangler_contracts.records import BILLING_ENTITIES
from strangler_migration import ExportPage, ExportSource, ExportUnavailable

from tests.integration.data_migration.conftest import (
    Databases,
    Launch,
    backfill,
    checksums,
    drift,
    write_history,
)
from tests.support.operator import OPERATOR_HEADERS

pytestmark = pytest.mark.integration

EXPECTED_COUNTS = {
    "customers": 4,
    "subscriptions": 3,
    "invoices": 3,
    "payments": 3,
    "refunds": 2,
}


class StopsAfter:
    """The monolith's export, as seen by a backfill process killed after ``pages`` pages."""

    def __init__(self, pages: int) -> None:
        self.pages_left = pages
        self.source: ExportSource | None = None

    def __call__(self, source: ExportSource) -> ExportSource:
        self.source = source
        return self

    async def page(self, entity: str, after: str | None, limit: int) -> ExportPage:
        if self.pages_left == 0:
            raise ExportUnavailable("the backfill process was killed")
        self.pages_left -= 1
        assert self.source is not None
        return await self.source.page(entity, after, limit)


async def test_a_backfill_copies_every_billing_record_and_the_sides_do_not_drift(
    launch: Launch,
) -> None:
    async with launch() as sides:
        await write_history(sides.monolith)
        assert (
            await sides.billing.get("/internal/billing/counts", headers=OPERATOR_HEADERS)
        ).json()["counts"] == dict.fromkeys(BILLING_ENTITIES, 0)

        progress = await backfill(sides.billing)

        assert {e.entity: (e.scanned, e.written) for e in progress.entities} == {
            entity: (n, n) for entity, n in EXPECTED_COUNTS.items()
        }
        assert await drift(sides) == []
        for entity in BILLING_ENTITIES:
            copied = await checksums(sides.billing, entity)
            original = await checksums(sides.monolith, entity)
            assert copied.records == original.records  # versions and origins kept too


async def test_a_backfill_stopped_after_one_page_resumes_from_its_checkpoint(
    launch: Launch, databases: Databases
) -> None:
    killed_after_one_page = StopsAfter(pages=1)
    async with launch(page_size=3, wrap_export=killed_after_one_page) as sides:
        await write_history(sides.monolith)

        stopped = await sides.billing.post(
            "/internal/migration/billing/backfill?pages=10", headers=OPERATOR_HEADERS
        )

        assert stopped.status_code == 502, stopped.text
        status = (
            await sides.billing.get("/internal/migration/billing", headers=OPERATOR_HEADERS)
        ).json()["backfill"]
        customers = status["entities"][0]
        assert (customers["entity"], customers["scanned"], customers["finished"]) == (
            "customers",
            3,
            False,
        )

    async with launch(page_size=3) as sides:  # a new process, the same database
        progress = await backfill(sides.billing)

        assert {e.entity: (e.scanned, e.written) for e in progress.entities} == {
            entity: (n, n) for entity, n in EXPECTED_COUNTS.items()
        }
        assert await drift(sides) == []


async def test_running_the_backfill_again_writes_nothing(
    launch: Launch, databases: Databases
) -> None:
    async with launch(page_size=2) as sides:
        await write_history(sides.monolith)
        await backfill(sides.billing)
        before = {e: await checksums(sides.billing, e) for e in BILLING_ENTITIES}

        finished_already = await backfill(sides.billing)
        rescanned = await backfill(sides.billing, restart=True)

        assert [e.scanned for e in finished_already.entities] == list(EXPECTED_COUNTS.values())
        assert {e.entity: (e.scanned, e.written) for e in rescanned.entities} == {
            entity: (n, 0) for entity, n in EXPECTED_COUNTS.items()
        }
        assert {e: await checksums(sides.billing, e) for e in BILLING_ENTITIES} == before


async def test_an_export_of_an_unknown_entity_is_a_404_problem(launch: Launch) -> None:
    async with launch() as sides:
        answer = await sides.monolith.get(
            "/internal/billing/export/passwords", headers=OPERATOR_HEADERS
        )

    assert answer.status_code == 404
    assert answer.json()["type"].endswith("/unknown-entity")


async def test_the_export_pages_in_id_order_without_gaps_or_repeats(
    launch: Launch, databases: Databases
) -> None:
    async with launch() as sides:
        await write_history(sides.monolith)
        seen: list[str] = []
        after: str | None = None
        for _ in range(10):
            params = {"limit": 1} | ({"after": after} if after else {})
            page = ExportPage.model_validate_json(
                (
                    await sides.monolith.get(
                        "/internal/billing/export/customers",
                        params=params,
                        headers=OPERATOR_HEADERS,
                    )
                ).content
            )
            seen += [record.id for record in page.records]
            after = page.next_cursor
            if after is None:
                break

    async with databases.monolith.connect() as connection:
        ids = list(await connection.scalars(select(User.id).order_by(User.id)))
    assert seen == ids
