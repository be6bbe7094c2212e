"""``auth-service``: prepare, migrate, serve (``http_platform.cli``), and rotate the signing
keys from a terminal next to the database.

``prepare`` migrates, then creates the first signing key and its successor (``seed``), so a
fresh database serves a key set from its first request. Each command imports what it needs
when it runs: the runner calls ``prepare`` on every start.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import typer
from http_platform.cli import deployable_cli
from http_platform.settings import settings_or_exit

from auth_service.settings import AuthSettings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from auth_service.service_layer.keys import SigningKeyring

__all__ = ["main"]


def _app(settings: AuthSettings) -> FastAPI:
    from auth_service.entrypoints.app import create_app

    return create_app(settings)


def _migrate(settings: AuthSettings) -> None:
    from auth_service.adapters.migrate import upgrade_to_head

    upgrade_to_head(settings.database_url)
    typer.echo("auth database schema is at head")


async def _with_keyring(settings: AuthSettings, rotate: bool) -> str:
    from strangler_persistence import create_engine, create_session_factory

    from auth_service.bootstrap import bootstrap

    engine = create_engine(settings.database_url)
    try:
        keyring: SigningKeyring = bootstrap(settings, create_session_factory(engine)).keyring
        await keyring.ensure()
        if not rotate:
            return "signing keys ready: one signs, the next is published"
        rotation = await keyring.rotate()
        return f"signing with {rotation.signing}; next {rotation.next}; " + (
            f"retired {', '.join(rotation.retired)}" if rotation.retired else "none retired"
        )
    finally:
        await engine.dispose()


def _seed(settings: AuthSettings) -> None:
    typer.echo(asyncio.run(_with_keyring(settings, rotate=False)))


cli = deployable_cli(
    help="The auth service.",
    settings=AuthSettings,
    serve=_app,
    migrate=_migrate,
    seed=_seed,
    default_port=8002,
)


@cli.command("rotate-keys")
def rotate_keys() -> None:
    """Promote the next signing key, keep the old one published until its last token
    expired, publish a new next key (on the database in AUTH_DATABASE_URL)."""
    typer.echo(asyncio.run(_with_keyring(settings_or_exit(AuthSettings), rotate=True)))


def main() -> None:
    cli()
