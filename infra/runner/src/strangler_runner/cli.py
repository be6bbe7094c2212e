"""The `strangler` command: start, inspect and stop the whole system on this machine."""

import time
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError

from strangler_runner.console import RunnerConsole

if TYPE_CHECKING:
    from strangler_eventing import BrokerConfig

    from strangler_runner.control import ControlCommand
    from strangler_runner.data_migration import MigrationCommand
    from strangler_runner.flag_control import AdminCommand
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
flags_app = typer.Typer(
    help="The gateway's flags: which side, legacy or new, serves each route and user, and "
    "which side sends e-mail (mail).",
    no_args_is_help=True,
)
app.add_typer(flags_app, name="flags")
migrate_app = typer.Typer(
    help="Moving a capability's data out of the monolith: backfill, sync, reconciliation.",
    no_args_is_help=True,
)
app.add_typer(migrate_app, name="migrate")
auth_app = typer.Typer(
    help="The auth service's signing keys: rotate them without logging anyone out.",
    no_args_is_help=True,
)
app.add_typer(auth_app, name="auth")

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


ComponentName = Annotated[
    str,
    typer.Argument(
        help="broker, smtp-sink, payment-simulator, legacy-monolith, billing or gateway"
    ),
]


def _tell_runner(command: "ControlCommand", component: str) -> None:
    from strangler_runner.control import tell_runner

    console = RunnerConsole()
    settings = _settings(console)
    # A start waits for the component's health probe; a stop for its SIGTERM, then SIGKILL.
    timeout = settings.health_timeout_seconds + 2 * settings.stop_timeout_seconds + 10
    raise typer.Exit(
        tell_runner(settings.state_dir, command, component, timeout, console.message, console.error)
    )


@app.command("stop")
def stop_component(component: ComponentName) -> None:
    """Stop one component of the running system; it stays stopped until `strangler start`."""
    _tell_runner("stop", component)


@app.command("start")
def start_component(component: ComponentName) -> None:
    """Start one stopped component again; returns once it is healthy."""
    _tell_runner("start", component)


@app.command("restart")
def restart_component(component: ComponentName) -> None:
    """Stop one component and start it again; returns once it is healthy."""
    _tell_runner("restart", component)


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


# The gateway commands talk to its admin API (`/_strangler/…`); they too import their
# machinery inside the command.

GatewayUrl = Annotated[
    str | None,
    typer.Option(
        "--gateway",
        help="The gateway's operator URL (default: STRANGLER_GATEWAY_URL, else the gateway "
        "`strangler up` runs here, else http://STRANGLER_HOST:STRANGLER_GATEWAY_ADMIN_PORT)",
        show_default=False,
    ),
]
AdminToken = Annotated[
    str | None,
    typer.Option(
        "--token",
        help="The gateway's admin token (default: STRANGLER_GATEWAY_ADMIN_TOKEN, else "
        "admin_token in the state dir's secrets.json)",
        show_default=False,
    ),
]
Reason = Annotated[str, typer.Option(help="Why, for the audit trail (`strangler flags history`).")]


def _against_gateway(gateway: str | None, token: str | None, command: "AdminCommand") -> None:
    from strangler_runner.flag_control import run_against_gateway

    console = RunnerConsole()
    raise typer.Exit(run_against_gateway(_settings(console), console, gateway, token, command))


@flags_app.command("list")
def flags_list(gateway: GatewayUrl = None, token: AdminToken = None) -> None:
    """Every route's flag (mode, canary percentage, targeting), mail's and the kill switch."""
    from strangler_runner.flag_control import list_flags

    _against_gateway(gateway, token, list_flags)


@flags_app.command("set")
def flags_set(
    route: Annotated[
        str,
        typer.Argument(help="auth, users, billing or notifications; or mail (who sends e-mail)"),
    ],
    mode: Annotated[
        str,
        typer.Argument(
            help="legacy, shadow, canary or new (mail: legacy or new)", show_default=False
        ),
    ],
    percent: Annotated[
        int | None,
        typer.Option(help="canary only, and required there: the share of users on new (0..100)"),
    ] = None,
    user: Annotated[
        list[str] | None,
        typer.Option(help="A user id always served by new; repeat for more. Replaces the list."),
    ] = None,
    email_domain: Annotated[
        list[str] | None,
        typer.Option(help="An e-mail domain always served by new; repeat. Replaces the list."),
    ] = None,
    clear_targeting: Annotated[
        bool, typer.Option("--clear-targeting", help="Drop the users and domains targeted now.")
    ] = False,
    reason: Reason = "",
    gateway: GatewayUrl = None,
    token: AdminToken = None,
) -> None:
    """Set a route's mode, or who sends e-mail (`mail`); targeting not given is kept.

    `strangler flags set billing canary --percent 50` keeps the users and e-mail domains
    already sent to new; --user or --email-domain replaces that list; --clear-targeting
    empties both.
    """
    from strangler_runner.flag_control import FlagRequest, InvalidFlagRequest, set_flag

    try:
        request = FlagRequest(mode, percent, user or [], email_domain or [], clear_targeting)
    except InvalidFlagRequest as invalid:
        RunnerConsole().error(str(invalid))
        raise typer.Exit(1) from None
    _against_gateway(
        gateway, token, lambda admin, console: set_flag(admin, console, route, request, reason)
    )


@flags_app.command("history")
def flags_history(
    route: Annotated[
        str | None, typer.Argument(help="Only this route's changes (`kill-switch` for the switch)")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many, latest first.")] = 20,
    gateway: GatewayUrl = None,
    token: AdminToken = None,
) -> None:
    """Flag and kill-switch changes, latest first: when, who, what changed and why."""
    from strangler_runner.flag_control import show_history

    _against_gateway(
        gateway, token, lambda admin, console: show_history(admin, console, route, limit)
    )


@app.command("kill-switch")
def kill_switch(
    state: Annotated[str, typer.Argument(help="on: every route to legacy at once; off: undo")],
    reason: Reason = "",
    gateway: GatewayUrl = None,
    token: AdminToken = None,
) -> None:
    """Send every route to legacy at once (on), or hand control back to the flags (off)."""
    from strangler_runner.flag_control import switch_kill_switch

    if state not in ("on", "off"):
        RunnerConsole().error(f"the kill switch is `on` or `off`, not {state!r}")
        raise typer.Exit(1)
    _against_gateway(
        gateway,
        token,
        lambda admin, console: switch_kill_switch(admin, console, state == "on", reason),
    )


@app.command()
def diffs(
    route: Annotated[str, typer.Argument(help="The route mirrored in shadow mode, e.g. billing")],
    limit: Annotated[int, typer.Option(min=0, help="How many of the latest differences.")] = 10,
    gateway: GatewayUrl = None,
    token: AdminToken = None,
) -> None:
    """Shadow figures of a route and its latest differences between legacy and new, by field."""
    from strangler_runner.flag_control import show_diffs

    _against_gateway(
        gateway, token, lambda admin, console: show_diffs(admin, console, route, limit)
    )


# `sagas` reads billing's operator endpoints (`/internal/sagas`, `/internal/choreographies`,
# see sagas.py).

SagaStatusFilter = Annotated[
    str | None,
    typer.Option(
        "--status",
        help="Only sagas in this status: running, compensating, completed, compensated or "
        "compensation_failed; only choreographies in this one: in_progress, paused, stuck or "
        "completed.",
        show_default=False,
    ),
]
BillingUrl = Annotated[
    str | None,
    typer.Option(
        "--billing",
        help="The billing service's URL (default: STRANGLER_BILLING_URL, else the billing "
        "`strangler up` runs here, else http://STRANGLER_HOST:STRANGLER_BILLING_PORT)",
        show_default=False,
    ),
]


@app.command()
def sagas(
    saga_id: Annotated[
        str | None,
        typer.Argument(
            help="One saga's id: its steps and every attempt; or one choreography's "
            "(correlation) id: each participant and every event (default: the lists)."
        ),
    ] = None,
    status: SagaStatusFilter = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="How many, latest first.")] = 20,
    billing: BillingUrl = None,
) -> None:
    """Billing's sagas (checkouts) and the choreographies it watches (account closures): the
    latest as tables, or one with its history."""
    from strangler_runner.sagas import show_sagas

    console = RunnerConsole()
    raise typer.Exit(show_sagas(_settings(console), console, billing, saga_id, status, limit))


# `auth` reads and rotates auth's signing keys (`/internal/auth/keys`, see auth_keys.py).


@auth_app.command("rotate-keys")
def auth_rotate_keys() -> None:
    """Sign with the key published as next, keep the old one published until its last token
    expired, publish a new next key (auth from STRANGLER_AUTH_URL, else the one running)."""
    from strangler_runner.auth_keys import rotate_keys

    console = RunnerConsole()
    raise typer.Exit(rotate_keys(_settings(console), console))


@auth_app.command("keys")
def auth_keys() -> None:
    """The signing keys auth publishes: which signs, which is next, until when retired ones
    stay published."""
    from strangler_runner.auth_keys import show_keys

    console = RunnerConsole()
    raise typer.Exit(show_keys(_settings(console), console))


# `migrate` talks to the data-migration endpoints of the monolith and of the service taking a
# capability over (`/internal/…`, see data_migration.py): the same three commands for billing,
# auth and notifications. It too imports its machinery inside the command.


def _migrating(capability: str, command: "MigrationCommand") -> None:
    from strangler_runner.data_migration import (
        AUTH,
        BILLING,
        NOTIFICATION_MIGRATION,
        run_migration,
    )

    console = RunnerConsole()
    moving = {"billing": BILLING, "auth": AUTH, "notifications": NOTIFICATION_MIGRATION}[capability]
    raise typer.Exit(run_migration(_settings(console), console, moving, command))


def _migration_commands(capability: str, data: str, help: str) -> typer.Typer:
    """`strangler migrate <capability> status | backfill | verify`."""
    commands = typer.Typer(help=help, no_args_is_help=True)

    @commands.command(
        "status",
        help="Per entity: records on both sides and how far the backfill got; then the sync.",
    )
    def status() -> None:
        from strangler_runner.data_migration import show_status

        _migrating(capability, show_status)

    @commands.command(
        "backfill",
        help=f"Copy the monolith's {data} to {capability}; resumes where a stopped run left off.",
    )
    def backfill_(
        restart: Annotated[
            bool,
            typer.Option(
                "--restart", help="Forget the checkpoints and scan everything again (idempotent)."
            ),
        ] = False,
        pages_per_call: Annotated[
            int,
            typer.Option(
                min=1, max=1000, help=f"Pages {capability} copies per call (a checkpoint each)."
            ),
        ] = 5,
    ) -> None:
        from strangler_runner.data_migration import backfill

        _migrating(capability, backfill(pages_per_call, restart))

    @commands.command(
        "verify",
        help="Compare both sides record by record; list every drifted record. Exit 1 on drift.",
    )
    def verify() -> None:
        from strangler_runner.data_migration import verify

        _migrating(capability, verify)

    return commands


migrate_app.add_typer(
    _migration_commands(
        "billing",
        "billing data",
        "Billing's data: the monolith's copied to the billing service, kept in sync both ways.",
    ),
    name="billing",
)
migrate_app.add_typer(
    _migration_commands(
        "auth",
        "users and password hashes",
        "Accounts: the monolith's users and password hashes copied to the auth service, kept "
        "in sync both ways.",
    ),
    name="auth",
)
migrate_app.add_typer(
    _migration_commands(
        "notifications",
        "mail history and preferences",
        "Notifications' data: the monolith's mail history and preferences copied to the "
        "notifications service, kept in sync both ways.",
    ),
    name="notifications",
)
