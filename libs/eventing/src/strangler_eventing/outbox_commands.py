"""``<deployable> outbox status | replay``: the outbox's operator commands, for every producer.

A deployable adds them to its own command line with ``cli.add_typer(outbox_commands(...),
name="outbox")``. Both arguments are called only when a command runs, so a command line that
also runs migrations does not import its models (or read its settings) to start.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

import typer
from sqlalchemy import Table
from strangler_persistence import create_engine

from strangler_eventing.relay import outbox_backlog, replay

__all__ = ["outbox_commands"]


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def outbox_commands(database_url: Callable[[], str], table: Callable[[], Table]) -> typer.Typer:
    """``status`` and ``replay`` on the outbox ``table()`` of the database at ``database_url()``."""
    commands = typer.Typer(
        help="The transactional outbox: what waits for the broker, and replays.",
        no_args_is_help=True,
    )

    @commands.command("status")
    def status() -> None:
        """How many events wait for the broker, and since when."""

        async def run() -> tuple[int, datetime | None]:
            engine = create_engine(database_url())
            try:
                return await outbox_backlog(engine, table())
            finally:
                await engine.dispose()

        count, oldest = asyncio.run(run())
        since = f", oldest from {oldest:%Y-%m-%d %H:%M:%S}Z" if oldest else ""
        typer.echo(f"{count} unpublished events{since}")

    @commands.command("replay")
    def replay_range(
        since: Annotated[
            datetime, typer.Option(help="Re-publish events recorded from then (UTC).")
        ],
        until: Annotated[
            datetime | None,
            typer.Option(help="... up to (not including) then (UTC; default: now)."),
        ] = None,
    ) -> None:
        """Mark a time range of events unpublished; the running relay publishes them again."""

        async def run() -> int:
            engine = create_engine(database_url())
            try:
                return await replay(engine, table(), _utc(since), until and _utc(until))
            finally:
                await engine.dispose()

        typer.echo(f"{asyncio.run(run())} events marked for re-publishing")

    return commands
