"""``strangler-gateway``: migrate the flag tables, and serve the gateway as a process."""

from __future__ import annotations

from typing import Annotated

import typer
from http_platform import settings_or_exit

from strangler_gateway.settings import GatewaySettings

__all__ = ["cli", "main"]

cli = typer.Typer(help="The strangler gateway.", no_args_is_help=True)


@cli.callback()
def _root() -> None:
    """The strangler gateway."""


def _settings() -> GatewaySettings:
    return settings_or_exit(GatewaySettings)


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface of the public entry.")] = None,
    port: Annotated[int | None, typer.Option(help="Port of the public entry.")] = None,
    admin_host: Annotated[
        str | None, typer.Option(help="Interface of the operator listener.")
    ] = None,
    admin_port: Annotated[int | None, typer.Option(help="Port of the operator listener.")] = None,
    prepare: Annotated[
        bool,
        typer.Option(
            "--prepare", help="First migrate, as `prepare` does, in this process: one start-up."
        ),
    ] = False,
) -> None:
    """Serve the gateway until interrupted; its database must be migrated first (``--prepare``).

    The public entry proxies the API; the operator listener serves ``/_strangler/*`` and
    ``/metrics``. Headers a little over ``max_header_bytes`` get the proxy's 431 naming the
    route; a head twice that size is refused by the server before it is read whole.
    """
    from strangler_gateway.app import create_app  # the web stack only when serving
    from strangler_gateway.listeners import Listener, serve_gateway

    settings = _settings()
    if prepare:
        migrate()
    serve_gateway(
        create_app(settings),
        Listener(host or settings.host, port if port is not None else settings.port),
        Listener(
            admin_host or settings.admin_host,
            admin_port if admin_port is not None else settings.admin_port,
        ),
        max_head_bytes=2 * settings.max_header_bytes,
        access_log=settings.access_log,
    )


@cli.command()
def migrate() -> None:
    """Create or upgrade the flag tables (alembic upgrade head)."""
    from strangler_gateway.migrate import upgrade_to_head  # Alembic only when migrating

    upgrade_to_head(_settings().database_url)
    typer.echo("flag tables are at head")


@cli.command()
def prepare() -> None:
    """What a fresh or existing database needs before ``serve``: today, migrating it."""
    migrate()


def main() -> None:
    cli()
