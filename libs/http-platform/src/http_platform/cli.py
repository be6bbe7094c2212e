"""The command line every deployable has: ``prepare | migrate | serve`` (and ``seed``).

Every callable imports what it needs when it runs: the runner calls ``prepare`` on every
start, and a migration should not wait for the web stack to import (this module imports
neither FastAPI nor uvicorn).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from pydantic_settings import BaseSettings

from http_platform.settings import settings_or_exit

if TYPE_CHECKING:
    from starlette.types import ASGIApp

__all__ = ["deployable_cli"]

S = TypeVar("S", bound=BaseSettings)


def deployable_cli(
    *,
    help: str,
    settings: type[S],
    serve: Callable[[S], ASGIApp],
    migrate: Callable[[S], None],
    default_port: int,
    seed: Callable[[S], None] | None = None,
) -> typer.Typer:
    """``prepare | migrate | serve`` (and ``seed``) over ``settings`` read from the env; the
    deployable adds its own commands to the answer."""
    cli = typer.Typer(
        help=help, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False
    )

    def read() -> S:
        return settings_or_exit(settings)

    def prepare_database(resolved: S) -> None:
        migrate(resolved)
        if seed is not None:
            seed(resolved)

    @cli.command("serve")
    def serve_command(
        host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to bind.")] = default_port,
        prepare: Annotated[
            bool,
            typer.Option(
                "--prepare",
                help="First do what `prepare` does, in this process: one start-up, not two.",
            ),
        ] = False,
    ) -> None:
        """Serve the HTTP API (and run the background loops)."""
        from http_platform.server import serve as serve_app

        resolved = read()
        if prepare:
            prepare_database(resolved)
        serve_app(serve(resolved), host, port)

    @cli.command("migrate")
    def migrate_command() -> None:
        """Create or upgrade the database schema (alembic upgrade head)."""
        migrate(read())

    @cli.command("prepare")
    def prepare_command() -> None:
        """What a fresh or existing database needs before serve: migrate, then seed."""
        prepare_database(read())

    if seed is not None:
        seeding = seed

        @cli.command("seed")
        def seed_command() -> None:
            """Write the reference data (idempotent)."""
            seeding(read())

    return cli
