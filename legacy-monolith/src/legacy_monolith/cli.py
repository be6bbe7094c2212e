"""``legacy-monolith``: prepare, migrate, serve (``http_platform.cli``), seed, and run the
billing cycle and the outbox commands.

Each command imports what it needs when it runs: the runner calls these commands on every
start, and importing the whole web stack to run a migration costs seconds on a small machine.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from http_platform.cli import deployable_cli
from http_platform.settings import settings_or_exit
from sqlalchemy import Table
from strangler_eventing import outbox_commands

from legacy_monolith.settings import MonolithSettings

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["main"]


def _app(settings: MonolithSettings) -> FastAPI:
    from legacy_monolith.app import create_app

    return create_app(settings)


def _migrate(settings: MonolithSettings) -> None:
    from legacy_monolith.migrate import upgrade_to_head

    upgrade_to_head(settings.database_url)
    typer.echo("database schema is at head")


def _seed(settings: MonolithSettings) -> None:
    from legacy_monolith.database import create_engine, create_session_factory
    from legacy_monolith.seed import seed as seed_demo_data

    async def run() -> tuple[int, int]:
        engine = create_engine(settings.database_url)
        try:
            return await seed_demo_data(create_session_factory(engine))
        finally:
            await engine.dispose()

    plans, users = asyncio.run(run())
    typer.echo(f"seeded {plans} plans, {users} new demo users")


cli = deployable_cli(
    help="The legacy monolith.",
    settings=MonolithSettings,
    serve=_app,
    migrate=_migrate,
    seed=_seed,
    default_port=8001,
)


@cli.command()
def bill(
    as_of: Annotated[
        datetime | None, typer.Option(help="Invoice periods ended by then (UTC; default now).")
    ] = None,
) -> None:
    """Run the billing cycle: invoice every subscription whose period has ended."""
    from legacy_monolith.billing.service import issue_due_invoices
    from legacy_monolith.bootstrap import build_runtime

    moment = as_of.replace(tzinfo=UTC) if as_of else datetime.now(UTC)

    async def run() -> int:
        runtime = build_runtime(settings_or_exit(MonolithSettings))
        try:
            return await issue_due_invoices(runtime, moment)
        finally:
            await runtime.aclose()

    typer.echo(f"issued {asyncio.run(run())} invoices")


def _outbox() -> Table:
    from legacy_monolith.models import outbox

    return outbox


cli.add_typer(
    outbox_commands(lambda: settings_or_exit(MonolithSettings).database_url, _outbox),
    name="outbox",
)


def main() -> None:
    cli()
