"""Reconciliation: `strangler migrate billing verify` compares both sides record by record
and lists every record that drifted; it exits 1 when one did."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from billing_service.adapters.orm import invoices, refunds
from legacy_monolith.models import Refund
from local_processes import AsyncChildProcess
from sqlalchemy import delete, select, update

from tests.integration.data_migration.conftest import Databases, Launch, Sides, backfill, drift
from tests.integration.data_migration.conftest import write_history as write_billing_history
from tests.support.operator import OPERATOR_TOKEN

pytestmark = pytest.mark.integration

CLI_TIMEOUT_SECONDS = 60
REFUNDS_IN_MONOLITH = Refund.__table__


async def _strangler(
    state_dir: Path, monolith_url: str, billing_url: str, *args: str
) -> tuple[int, str, str]:
    """Run `strangler ARGS…` against both sides; its exit code, stdout and stderr."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("STRANGLER_")}
    env |= {
        "STRANGLER_STATE_DIR": str(state_dir),
        "STRANGLER_MONOLITH_URL": monolith_url,
        "STRANGLER_BILLING_URL": billing_url,
        "STRANGLER_GATEWAY_ADMIN_TOKEN": OPERATOR_TOKEN,
        "COLUMNS": "200",
    }
    argv = [sys.executable, "-m", "strangler_runner", *args]
    child = await AsyncChildProcess.start(argv, env=env)
    try:
        out, err = await asyncio.wait_for(child.process.communicate(), CLI_TIMEOUT_SECONDS)
    finally:
        await child.stop()
    assert child.returncode is not None
    return child.returncode, out.decode(), err.decode()


def _against(sides: Sides, state_dir: Path) -> Callable[..., Awaitable[tuple[int, str, str]]]:
    monolith, billing = str(sides.monolith.base_url), str(sides.billing.base_url)

    async def run(*args: str) -> tuple[int, str, str]:
        return await _strangler(state_dir, monolith, billing, *args)

    return run


async def test_verify_lists_a_record_corrupted_on_one_side_and_exits_non_zero(
    launch: Launch, databases: Databases, tmp_path: Path
) -> None:
    async with launch() as sides:
        await write_billing_history(sides.monolith)
        await backfill(sides.billing)
        strangler = _against(sides, tmp_path)
        agreed = await strangler("migrate", "billing", "verify")
        async with databases.billing.begin() as connection:
            invoice_id = await connection.scalar(select(invoices.c.id).limit(1))
            await connection.execute(
                update(invoices).where(invoices.c.id == invoice_id).values(amount_cents=1)
            )
            refund_id = await connection.scalar(select(refunds.c.id).limit(1))
            await connection.execute(delete(refunds).where(refunds.c.id == refund_id))

        drifted = await strangler("migrate", "billing", "verify")

    assert agreed[0] == 0, agreed
    assert "no drift" in agreed[1]
    code, out, err = drifted
    assert code == 1, (out, err)
    assert f"invoices {invoice_id}: amount_cents monolith=" in out
    assert "billing=1" in out
    assert f"refunds {refund_id}: missing in billing" in out
    assert "2 drifted records" in out
    assert err == ""


async def test_verify_names_a_broken_business_rule_even_when_both_sides_agree(
    launch: Launch, databases: Databases, tmp_path: Path
) -> None:
    async with launch() as sides:
        await write_billing_history(sides.monolith)
        await backfill(sides.billing)
        strangler = _against(sides, tmp_path)
        for engine, table in (
            (databases.monolith, REFUNDS_IN_MONOLITH),
            (databases.billing, refunds),
        ):
            async with engine.begin() as connection:
                refund_id, invoice_id = (
                    await connection.execute(
                        select(table.c.id, table.c.invoice_id).order_by(table.c.id).limit(1)
                    )
                ).one()
                await connection.execute(
                    update(table).where(table.c.id == refund_id).values(amount_cents=1_000_000)
                )

        code, out, err = await strangler("migrate", "billing", "verify")

    assert code == 1, (out, err)
    assert "no drift: both sides hold the same" in out
    for side in ("the monolith", "billing"):
        assert (
            f"{side} breaks 'refunds never above the amount paid': refunds of {invoice_id}:" in out
        )
    assert err == ""


async def test_status_shows_both_sides_counts_and_the_backfill(
    launch: Launch, tmp_path: Path
) -> None:
    async with launch() as sides:
        await write_billing_history(sides.monolith)
        strangler = _against(sides, tmp_path)
        before = await strangler("migrate", "billing", "status")
        backfilled = await strangler("migrate", "billing", "backfill")
        after = await strangler("migrate", "billing", "status")
        assert await drift(sides) == []

    assert before[0] == 0, before
    assert "not started" in before[1]
    assert backfilled[0] == 0, backfilled
    assert "backfill finished: 15 records read from the monolith, 15 written" in backfilled[1]
    assert after[0] == 0, after
    assert "finished (4 scanned)" in after[1]
    assert "sync monolith → billing: not running" in after[1]


async def test_a_side_that_is_not_running_is_one_line_and_exit_code_2(tmp_path: Path) -> None:
    nowhere = "http://127.0.0.1:1"

    code, out, err = await _strangler(tmp_path, nowhere, nowhere, "migrate", "billing", "verify")

    assert code == 2
    assert err.strip().splitlines() == [
        "error: the monolith at http://127.0.0.1:1 is not answering; is `strangler up` running?"
    ]
    assert "Traceback" not in out + err
