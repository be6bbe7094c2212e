"""Reconciliation: `strangler migrate billing verify` compares both sides record by record
and lists every record that drifted; it exits 1 when one did."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from billing_service.adapters.orm import invoices, refunds
from sqlalchemy import delete, select, update

from tests.integration.data_migration.conftest import Databases, Launch, Sides, backfill, drift
from tests.integration.data_migration.conftest import write_history as write_billing_history

pytestmark = pytest.mark.integration

CLI_TIMEOUT_SECONDS = 60


async def _strangler(sides: Sides, state_dir: Path, *args: str) -> tuple[int, str, str]:
    """Run `strangler ARGS…` against both sides; its exit code, stdout and stderr."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("STRANGLER_")}
    env |= {
        "STRANGLER_STATE_DIR": str(state_dir),
        "STRANGLER_MONOLITH_URL": str(sides.monolith.base_url),
        "STRANGLER_BILLING_URL": str(sides.billing.base_url),
        "COLUMNS": "200",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "strangler_runner",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), CLI_TIMEOUT_SECONDS)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_verify_lists_a_record_corrupted_on_one_side_and_exits_non_zero(
    launch: Launch, databases: Databases, tmp_path: Path
) -> None:
    async with launch() as sides:
        await write_billing_history(sides.monolith)
        await backfill(sides.billing)
        agreed = await _strangler(sides, tmp_path, "migrate", "billing", "verify")
        async with databases.billing.begin() as connection:
            invoice_id = await connection.scalar(select(invoices.c.id).limit(1))
            await connection.execute(
                update(invoices).where(invoices.c.id == invoice_id).values(amount_cents=1)
            )
            refund_id = await connection.scalar(select(refunds.c.id).limit(1))
            await connection.execute(delete(refunds).where(refunds.c.id == refund_id))

        drifted = await _strangler(sides, tmp_path, "migrate", "billing", "verify")

    assert agreed[0] == 0, agreed
    assert "no drift" in agreed[1]
    code, out, err = drifted
    assert code == 1, (out, err)
    assert f"invoices {invoice_id}: amount_cents monolith=" in out
    assert "billing=1" in out
    assert f"refunds {refund_id}: missing in billing" in out
    assert "2 drifted records" in out
    assert err == ""


async def test_status_shows_both_sides_counts_and_the_backfill(
    launch: Launch, tmp_path: Path
) -> None:
    async with launch() as sides:
        await write_billing_history(sides.monolith)
        before = await _strangler(sides, tmp_path, "migrate", "billing", "status")
        backfilled = await _strangler(sides, tmp_path, "migrate", "billing", "backfill")
        after = await _strangler(sides, tmp_path, "migrate", "billing", "status")
        assert await drift(sides) == []

    assert before[0] == 0, before
    assert "not started" in before[1]
    assert backfilled[0] == 0, backfilled
    assert "backfill finished: 15 records read from the monolith, 15 written" in backfilled[1]
    assert after[0] == 0, after
    assert "finished (4 scanned)" in after[1]
    assert "sync monolith → billing: not running" in after[1]


async def test_a_side_that_is_not_running_is_one_line_and_exit_code_2(tmp_path: Path) -> None:
    env = {name: value for name, value in os.environ.items() if not name.startswith("STRANGLER_")}
    env |= {
        "STRANGLER_STATE_DIR": str(tmp_path),
        "STRANGLER_MONOLITH_URL": "http://127.0.0.1:1",
        "STRANGLER_BILLING_URL": "http://127.0.0.1:1",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "strangler_runner",
        "migrate",
        "billing",
        "verify",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), CLI_TIMEOUT_SECONDS)

    assert process.returncode == 2
    assert err.decode().strip().splitlines() == [
        "error: the monolith at http://127.0.0.1:1 is not answering; is `strangler up` running?"
    ]
    assert "Traceback" not in out.decode() + err.decode()
