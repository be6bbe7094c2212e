"""``strangler-gateway serve``: run the gateway as a process."""

from __future__ import annotations

from typing import Annotated

import typer
from http_platform import serve as serve_app
from pydantic import ValidationError

from strangler_gateway.app import create_app
from strangler_gateway.settings import GatewaySettings

__all__ = ["cli", "main"]

cli = typer.Typer(help="The strangler gateway.", no_args_is_help=True)


@cli.callback()
def _root() -> None:
    """The strangler gateway."""


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind.")] = None,
) -> None:
    """Serve the gateway until interrupted."""
    try:
        settings = GatewaySettings()
    except ValidationError as exc:
        problems = "; ".join(
            f"GATEWAY_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in exc.errors()
        )
        typer.echo(f"strangler-gateway: invalid settings: {problems}", err=True)
        raise typer.Exit(2) from None
    serve_app(
        create_app(settings),
        host or settings.host,
        port if port is not None else settings.port,
        trust_proxy_headers=False,
    )


def main() -> None:
    cli()
