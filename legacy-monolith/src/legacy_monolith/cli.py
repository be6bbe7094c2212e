"""``legacy-monolith``: serve, migrate, seed and run the billing cycle.

Each command imports what it needs when it runs: the runner calls these commands on every
start, and importing the whole web stack to run a migration costs seconds on a small machine.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

import typer
from http_platform import settings_or_exit
from sqlalchemy import Table
from strangler_eventing import outbox_commands

from legacy_monolith.settings import MonolithSettings

__all__ = ["main"]

cli = typer.Typer(
    help="The legacy monolith.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _settings() -> MonolithSettings:
    return settings_or_exit(MonolithSettings)


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8001,
) -> None:
    """Serve the HTTP API."""
    from http_platform import serve as serve_app

    from legacy_monolith.app import create_app

    serve_app(create_app(_settings()), host, port)


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


@cli.command()
def migrate() -> None:
    """Create or upgrade the database schema (alembic upgrade head)."""
    _migrate(_settings())


@cli.command()
def seed() -> None:
    """Insert the plan catalogue and demo users (idempotent)."""
    _seed(_settings())


@cli.command()
def prepare() -> None:
    """Migrate, then seed: what a fresh or existing database needs before ``serve``."""
    settings = _settings()
    _migrate(settings)
    _seed(settings)


@cli.command()
def bill(
    as_of: Annotated[
        datetime | None, typer.Option(help="Invoice periods ended by then (UTC; default now).")
    ] = None,
) -> None:
    """Run the billing cycle: invoice every subscription whose period has ended."""
    from legacy_monolith.app import build_runtime
    from legacy_monolith.billing.service import issue_due_invoices

    moment = as_of.replace(tzinfo=UTC) if as_of else datetime.now(UTC)

    async def run() -> int:
        runtime = build_runtime(_settings())
        try:
            return await issue_due_invoices(runtime, moment)
        finally:
            await runtime.payments.aclose()
            await runtime.engine.dispose()

    typer.echo(f"issued {asyncio.run(run())} invoices")


def _outbox() -> Table:
    from legacy_monolith.models import outbox

    return outbox


cli.add_typer(outbox_commands(lambda: _settings().database_url, _outbox), name="outbox")


def main() -> None:
    cli()
