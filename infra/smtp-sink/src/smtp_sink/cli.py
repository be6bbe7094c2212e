"""``smtp-sink serve``: catch mail over SMTP, show it over HTTP, in one process."""

from __future__ import annotations

import logging
from typing import Annotated

import typer
from http_platform import serve as serve_app

from smtp_sink.app import create_app
from smtp_sink.settings import Settings

__all__ = ["main"]

cli = typer.Typer(add_completion=False, no_args_is_help=True)


@cli.callback()
def _group() -> None:
    """A local e-mail sink; SMTP_SINK_MAX_MESSAGES bounds how much it keeps."""


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface both servers listen on")] = "127.0.0.1",
    smtp_port: Annotated[int, typer.Option(help="SMTP port")] = 1025,
    http_port: Annotated[int, typer.Option(help="HTTP port")] = 8025,
) -> None:
    """Serve SMTP and the HTTP API until SIGTERM or Ctrl-C."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    settings = Settings(smtp_host=host, smtp_port=smtp_port)
    serve_app(create_app(settings), host, http_port)


def main() -> None:
    cli()
