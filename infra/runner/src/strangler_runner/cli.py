"""The `strangler` command: start, inspect and stop the whole system on this machine."""

import time
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError

from strangler_runner.console import RunnerConsole

if TYPE_CHECKING:
    from strangler_eventing import BrokerConfig
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
events_app = typer.Typer(
    help="Inspect the embedded broker: its topics and the events flowing through them.",
    no_args_is_help=True,
)
app.add_typer(events_app, name="events")
dlq_app = typer.Typer(
    help="Dead letters: messages a consumer gave up on, why, and sending them back.",
    no_args_is_help=True,
)
app.add_typer(dlq_app, name="dlq")

BootstrapServers = Annotated[
    str | None,
    typer.Option(
        help="host:port of a Kafka broker (default: STRANGLER_HOST:STRANGLER_BROKER_PORT)",
        show_default=False,
    ),
]


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


def _bootstrap_servers(console: RunnerConsole, given: str | None) -> str:
    return given or _settings(console).broker_bootstrap_servers


# The `events` commands import the Kafka stack inside the command: it takes seconds to load,
# and `strangler status` must stay quick.


@events_app.command("tail")
def events_tail(
    topics: Annotated[
        list[str] | None,
        typer.Argument(
            help="Topics to follow (default: every contract topic but the dead-letter ones)"
        ),
    ] = None,
    from_beginning: Annotated[
        bool, typer.Option("--from-beginning", help="Show the events already on the topics too.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print each CloudEvents envelope as one JSON line.")
    ] = False,
    bootstrap_servers: BootstrapServers = None,
) -> None:
    """Print every event on the topics as it arrives, one line each; Ctrl-C stops."""
    # "Now" is taken before the slow import, so that nothing sent meanwhile is skipped.
    since_ms = None if from_beginning else time.time_ns() // 1_000_000
    from strangler_runner import events

    console = RunnerConsole()
    raise typer.Exit(
        events.tail(
            _bootstrap_servers(console, bootstrap_servers),
            topics or events.default_tail_topics(),
            console,
            since_ms=since_ms,
            as_json=as_json,
        )
    )


@events_app.command("topics")
def events_topics(bootstrap_servers: BootstrapServers = None) -> None:
    """List every topic with its partitions and their high-watermarks."""
    from strangler_runner import events

    console = RunnerConsole()
    raise typer.Exit(events.show_topics(_bootstrap_servers(console, bootstrap_servers), console))


@events_app.command("create-topics")
def events_create_topics(bootstrap_servers: BootstrapServers = None) -> None:
    """Create every contract topic that is missing (`strangler up` does it at start)."""
    from strangler_runner import events

    console = RunnerConsole()
    raise typer.Exit(events.create_topics(_bootstrap_servers(console, bootstrap_servers), console))


@events_app.command("replay")
def events_replay(
    since: Annotated[datetime, typer.Option(help="Re-publish events recorded from then (UTC).")],
    until: Annotated[
        datetime | None, typer.Option(help="... up to (not including) then (default: now).")
    ] = None,
) -> None:
    """Have every outbox publish a time range again (after the broker lost its log)."""
    from strangler_runner.replay import replay_outboxes

    console = RunnerConsole()
    raise typer.Exit(replay_outboxes(_settings(console), console, since, until))


DeadLetterTopic = Annotated[
    str | None,
    typer.Option("--topic", help="Only this topic's dead letters (default: every topic)."),
]


def _broker(console: RunnerConsole, bootstrap_servers: str | None) -> "BrokerConfig":
    from strangler_runner.events import broker_config

    return broker_config(_bootstrap_servers(console, bootstrap_servers))


@dlq_app.command("list")
def dlq_list(topic: DeadLetterTopic = None, bootstrap_servers: BootstrapServers = None) -> None:
    """Every dead letter: where it came from, which group gave up, and why."""
    from strangler_runner.dead_letters import list_dead_letters

    console = RunnerConsole()
    raise typer.Exit(list_dead_letters(_broker(console, bootstrap_servers), topic, console))


@dlq_app.command("show")
def dlq_show(
    ref: Annotated[str, typer.Argument(help="topic.dlq:partition:offset, from `dlq list`")],
    bootstrap_servers: BootstrapServers = None,
) -> None:
    """One dead letter in full: reason, error, original headers and the event itself."""
    from strangler_runner.dead_letters import show_dead_letter

    console = RunnerConsole()
    raise typer.Exit(show_dead_letter(_broker(console, bootstrap_servers), ref, console))


@dlq_app.command("redrive")
def dlq_redrive(
    refs: Annotated[
        list[str] | None, typer.Argument(help="Dead letters to send back (default: all)")
    ] = None,
    topic: DeadLetterTopic = None,
    bootstrap_servers: BootstrapServers = None,
) -> None:
    """Send dead letters back to their original topic once the consumer is fixed."""
    from strangler_runner.dead_letters import redrive_dead_letters

    console = RunnerConsole()
    raise typer.Exit(
        redrive_dead_letters(_broker(console, bootstrap_servers), refs or [], topic, console)
    )
