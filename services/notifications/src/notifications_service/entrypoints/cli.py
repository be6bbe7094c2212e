"""``notifications-service``: prepare, migrate, serve (``http_platform.cli``), and look after
the outbox.

Each command imports what it needs when it runs: the runner calls ``prepare`` on every
start, and a migration should not wait for the whole web stack to import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from http_platform.cli import deployable_cli
from http_platform.settings import settings_or_exit
from sqlalchemy import Table
from strangler_eventing import outbox_commands

from notifications_service.settings import NotificationsSettings

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["main"]


def _app(settings: NotificationsSettings) -> FastAPI:
    from notifications_service.entrypoints.app import create_app

    return create_app(settings)


def _migrate(settings: NotificationsSettings) -> None:
    from notifications_service.adapters.migrate import upgrade_to_head

    upgrade_to_head(settings.database_url)
    typer.echo("notifications database schema is at head")


cli = deployable_cli(
    help="The notifications service.",
    settings=NotificationsSettings,
    serve=_app,
    migrate=_migrate,
    default_port=8004,
)


def _outbox() -> Table:
    from notifications_service.adapters.tables import outbox

    return outbox


cli.add_typer(
    outbox_commands(lambda: settings_or_exit(NotificationsSettings).database_url, _outbox),
    name="outbox",
)


def main() -> None:
    cli()
