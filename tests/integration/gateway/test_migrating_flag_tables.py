"""The flag tables come from the gateway's own migrations, never from the running gateway."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from local_processes import ChildProcess
from strangler_gateway import Mode, RouteFlag, SqlFlagStore
from strangler_gateway.migrate import upgrade_to_head
from strangler_gateway.sql_store import Base, FlagTablesMissing
from strangler_persistence import create_engine
from strangler_persistence.migrations import schema_differences

from tests.integration.conftest import FreshDatabase
from tests.support.gateway_process import (
    HOST,
    gateway_env,
    launch_gateway,
    run_gateway_command,
    wait_until_ready,
)
from tests.support.service_process import ServiceProcess, console_script
from tests.support.serving import free_port

from .conftest import ADMIN_TOKEN


async def _differences(database_url: str) -> list[object]:
    engine = create_engine(database_url)
    try:
        return await schema_differences(engine, Base.metadata)
    finally:
        await engine.dispose()


async def test_the_migrated_flag_tables_match_the_models_on_postgres(
    fresh_database: FreshDatabase,
) -> None:
    database_url = await fresh_database("gateway", migrate=upgrade_to_head)

    assert await _differences(database_url) == []


async def test_the_migrated_flag_tables_match_the_models_on_sqlite(flag_database: str) -> None:
    assert await _differences(flag_database) == []


async def test_migrating_again_keeps_the_flags(fresh_database: FreshDatabase) -> None:
    database_url = await fresh_database("gateway", migrate=upgrade_to_head)
    store = SqlFlagStore(create_engine(database_url))
    await store.start()
    await store.set_flag("billing", RouteFlag(Mode.NEW), who="ops", reason="cut over")
    await store.close()

    await asyncio.to_thread(upgrade_to_head, database_url)

    again = SqlFlagStore(create_engine(database_url))
    await again.start()
    try:
        assert again.current().flag("billing").mode is Mode.NEW
    finally:
        await again.close()


async def test_a_store_on_an_unmigrated_database_refuses_to_start_and_says_what_to_run(
    tmp_path: Path,
) -> None:
    store = SqlFlagStore(create_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"))

    with pytest.raises(FlagTablesMissing, match="run `strangler-gateway migrate` first"):
        await store.start()
    await store.close()

    assert await _differences(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}") != []


async def test_strangler_gateway_migrate_creates_the_tables_on_postgres_and_sqlite(
    tmp_path: Path, fresh_database: FreshDatabase
) -> None:
    postgres = await fresh_database("gateway_cli")
    sqlite = f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"

    for database_url in (postgres, sqlite):
        settings = {"database_url": database_url, "admin_token": ADMIN_TOKEN}
        migrated = await asyncio.to_thread(run_gateway_command, settings, "migrate")
        prepared = await asyncio.to_thread(run_gateway_command, settings, "prepare")

        assert migrated.returncode == 0, migrated.stderr
        assert prepared.returncode == 0, prepared.stderr
        assert await _differences(database_url) == []


def test_a_gateway_process_on_an_unmigrated_database_exits_naming_the_command(
    tmp_path: Path,
) -> None:
    settings = {
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}",
        "admin_token": ADMIN_TOKEN,
    }
    gateway = launch_gateway(settings, tmp_path / "gateway.log")
    try:
        returncode = gateway.process.wait(timeout=60)
    finally:
        gateway.stop()

    assert returncode != 0
    assert "run `strangler-gateway migrate` first" in gateway.output()


async def test_serve_with_prepare_migrates_an_empty_database_then_serves(tmp_path: Path) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    port, admin_port = free_port(), free_port()
    log_path = tmp_path / "gateway.log"
    with log_path.open("ab") as log:
        child = ChildProcess.start(
            [console_script("strangler-gateway"), "serve", "--prepare", "--host", HOST,
             "--port", str(port), "--admin-port", str(admin_port)],
            env=gateway_env({"database_url": database, "admin_token": ADMIN_TOKEN}),
            stdout=log,
        )  # fmt: skip
    gateway = ServiceProcess("the gateway", child.process, port, log_path, "/health/ready")
    try:
        await wait_until_ready(gateway)
    finally:
        gateway.stop()

    assert "flag tables are at head" in gateway.output()
    assert await _differences(database) == []
