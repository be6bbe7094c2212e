"""``legacy-monolith``: serve, migrate, seed and run the billing cycle."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

import typer
import uvicorn

from legacy_monolith.app import build_runtime, create_app
from legacy_monolith.billing.service import issue_due_invoices
from legacy_monolith.database import create_engine, create_session_factory
from legacy_monolith.migrate import upgrade_to_head
from legacy_monolith.seed import seed as seed_demo_data
from legacy_monolith.settings import MonolithSettings

__all__ = ["main"]

cli = typer.Typer(
    help="The legacy monolith.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _settings() -> MonolithSettings:
    return MonolithSettings()


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8001,
) -> None:
    """Serve the HTTP API."""
    uvicorn.run(create_app(_settings()), host=host, port=port, log_level="info")


@cli.command()
def migrate() -> None:
    """Create or upgrade the database schema (alembic upgrade head)."""
    upgrade_to_head(_settings().database_url)
    typer.echo("database schema is at head")


@cli.command()
def seed() -> None:
    """Insert the plan catalogue and demo users (idempotent)."""

    async def run() -> tuple[int, int]:
        engine = create_engine(_settings().database_url)
        try:
            return await seed_demo_data(create_session_factory(engine))
        finally:
            await engine.dispose()

    plans, users = asyncio.run(run())
    typer.echo(f"seeded {plans} plans, {users} new demo users")


@cli.command()
def bill(
    as_of: Annotated[
        datetime | None, typer.Option(help="Issue invoices for periods ended by then (UTC).")
    ] = None,
) -> None:
    """Run the billing cycle: invoice every subscription whose period has ended."""
    moment = (as_of or datetime.now(UTC)).replace(tzinfo=UTC) if as_of else datetime.now(UTC)

    async def run() -> int:
        runtime = build_runtime(_settings())
        try:
            return await issue_due_invoices(runtime, moment)
        finally:
            await runtime.payments.aclose()
            await runtime.engine.dispose()

    typer.echo(f"issued {asyncio.run(run())} invoices")


def main() -> None:
    cli()
