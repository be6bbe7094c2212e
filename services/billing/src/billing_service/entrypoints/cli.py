"""``billing-service``: prepare, migrate, serve (``http_platform.cli``), seed the plan
catalogue, and look after the outbox.

Each command imports what it needs when it runs: the runner calls ``prepare`` on every
start, and a migration should not wait for the whole web stack to import.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import typer
from http_platform.cli import deployable_cli
from http_platform.settings import settings_or_exit
from sqlalchemy import Table
from strangler_eventing import outbox_commands

from billing_service.settings import BillingSettings

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["main"]


def _app(settings: BillingSettings) -> FastAPI:
    from billing_service.entrypoints.app import create_app

    return create_app(settings)


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


cli = deployable_cli(
    help="The billing service.",
    settings=BillingSettings,
    serve=_app,
    migrate=_migrate,
    seed=_seed,
    default_port=8003,
)


def _outbox() -> Table:
    from billing_service.adapters.orm import outbox

    return outbox


cli.add_typer(
    outbox_commands(lambda: settings_or_exit(BillingSettings).database_url, _outbox),
    name="outbox",
)


def main() -> None:
    cli()
