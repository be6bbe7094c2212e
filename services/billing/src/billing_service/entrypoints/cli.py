"""``billing-service``: serve, migrate, seed the plan catalogue, and look after the outbox.

Each command imports what it needs when it runs: the runner calls ``prepare`` on every
start, and a migration should not wait for the whole web stack to import.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from http_platform import settings_or_exit
from sqlalchemy import Table
from strangler_eventing import outbox_commands

from billing_service.settings import BillingSettings

__all__ = ["main"]

cli = typer.Typer(
    help="The billing service.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _settings() -> BillingSettings:
    return settings_or_exit(BillingSettings)


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8003,
) -> None:
    """Serve the HTTP API (and publish and consume events in the background)."""
    from http_platform import serve as serve_app

    from billing_service.entrypoints.app import create_app

    serve_app(create_app(_settings()), host, port)


def _migrate(settings: BillingSettings) -> None:
    from billing_service.adapters.migrate import upgrade_to_head

    upgrade_to_head(settings.database_url)
    typer.echo("billing database schema is at head")


def _seed(settings: BillingSettings) -> None:
    from strangler_persistence import create_engine, create_session_factory

    from billing_service.bootstrap import bootstrap
    from billing_service.service_layer.catalogue import ensure_plan_catalogue

    async def run() -> int:
        engine = create_engine(settings.database_url)
        billing = bootstrap(settings, create_session_factory(engine))
        try:
            return await ensure_plan_catalogue(billing.unit_of_work())
        finally:
            await billing.aclose()
            await engine.dispose()

    typer.echo(f"plan catalogue holds {asyncio.run(run())} plans")


@cli.command()
def migrate() -> None:
    """Create or upgrade billing's database schema (alembic upgrade head)."""
    _migrate(_settings())


@cli.command()
def seed() -> None:
    """Write the plan catalogue (idempotent)."""
    _seed(_settings())


@cli.command()
def prepare() -> None:
    """Migrate, then seed: what a fresh or existing database needs before ``serve``."""
    settings = _settings()
    _migrate(settings)
    _seed(settings)


def _outbox() -> Table:
    from billing_service.adapters.orm import outbox

    return outbox


cli.add_typer(outbox_commands(lambda: _settings().database_url, _outbox), name="outbox")


def main() -> None:
    cli()
