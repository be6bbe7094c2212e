"""The `strangler` command: start, inspect and stop the whole system on this machine."""

import typer
from pydantic import ValidationError

from strangler_runner.console import RunnerConsole
from strangler_runner.launch import bring_up
from strangler_runner.settings import RunnerSettings
from strangler_runner.shutdown import bring_down
from strangler_runner.status import show_status

__all__ = ["app"]

app = typer.Typer(
    name="strangler",
    help="Start, inspect and stop the Strangler Fig system locally. "
    "Settings come from STRANGLER_* environment variables.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


def _settings(console: RunnerConsole) -> RunnerSettings:
    try:
        return RunnerSettings()
    except ValidationError as invalid:
        for error in invalid.errors():
            field_name = ".".join(str(part) for part in error["loc"])
            console.error(f"{RunnerSettings.env_var(field_name)}: {error['msg']}")
        raise typer.Exit(2) from None


@app.command()
def up() -> None:
    """Start every component in the foreground; Ctrl-C stops them all."""
    console = RunnerConsole()
    raise typer.Exit(bring_up(_settings(console), console))


@app.command()
def status() -> None:
    """Show every component and whether it is healthy; exit code 0 only if all are."""
    console = RunnerConsole()
    raise typer.Exit(show_status(_settings(console), console))


@app.command()
def down() -> None:
    """Stop a runner started elsewhere, and wait until every component has stopped."""
    console = RunnerConsole()
    raise typer.Exit(bring_down(_settings(console), console))
