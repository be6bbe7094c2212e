"""``payment-simulator serve``: run the simulator as its own HTTP process."""

from __future__ import annotations

from typing import Annotated

import typer
from http_platform import serve as serve_app

from payment_simulator.app import create_app
from payment_simulator.settings import Settings

__all__ = ["main"]

cli = typer.Typer(add_completion=False, no_args_is_help=True)


@cli.callback()
def _group() -> None:
    """A card-payment provider sandbox; PAYSIM_* variables configure it."""


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HTTP port")] = 8009,
) -> None:
    """Serve the simulator's HTTP API until SIGTERM or Ctrl-C."""
    serve_app(create_app(Settings()), host, port)


def main() -> None:
    cli()
