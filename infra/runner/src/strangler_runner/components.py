"""The system the runner starts: one declarative entry per component.

Adding a component means adding one `Component(...)` to `system_components`, naming what
it `needs` healthy before it starts (the list's order is only the order of tables). The runner
never imports a component; it runs the console script installed next to its own
interpreter, so every component lives in its own process with its own settings. The
broker is the exception that proves the rule: it is a binary, and `embedded_broker` only
says where it is and how to call it.
"""

import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from embedded_broker import broker_argv, new_cluster_id

from strangler_runner.console import RunnerConsole
from strangler_runner.settings import RunnerSettings
from strangler_runner.state import LocalSecrets, StateDir

__all__ = [
    "Component",
    "InProcessStep",
    "PortBinding",
    "Step",
    "console_script",
    "start_argv",
    "system_components",
]


@dataclass(frozen=True)
class PortBinding:
    """A port a component listens on, and the setting that moves it elsewhere."""

    purpose: str
    number: int
    setting: str


@dataclass(frozen=True)
class Step:
    """A command run to completion with the component's environment; it must exit 0."""

    label: str
    argv: tuple[str, ...]


@dataclass(frozen=True)
class InProcessStep:
    """Work the runner awaits in its own process, with no Python start-up of its own; it
    answers why it failed, or None."""

    label: str
    run: Callable[[RunnerConsole], Awaitable[str | None]]


@dataclass(frozen=True)
class Component:
    name: str
    argv: tuple[str, ...]
    ports: tuple[PortBinding, ...]
    health_url: str
    """`http://…` is healthy on a 200 answer, `tcp://host:port` when the port accepts."""
    urls: Mapping[str, str]
    env: Mapping[str, str] = field(default_factory=dict)
    prepare: tuple[Step, ...] = ()
    """Run before the component starts (migrations, seed data)."""
    once_healthy: tuple[Step | InProcessStep, ...] = ()
    """Run once the component is healthy, before the next one starts (creating topics)."""
    outbox_replay: tuple[str, ...] = ()
    """The command that marks a time range of its outbox unpublished (`--since`, `--until`)."""
    argv_of_each_start: Callable[[], tuple[str, ...]] | None = None
    """When given, every start and restart runs the command it returns instead of `argv`:
    the broker gets a new cluster id each time, so that the relays notice its log is new."""
    needs: tuple[str, ...] = ()
    """Components that must be healthy (their `once_healthy` steps done) before it starts.

    Everything else starts at once: the runner starts every component whose needs are met in
    parallel, and runs every `prepare` step at once from the beginning. A component is
    stopped before the components it needs."""
    talks_to: tuple[str, ...] = ()
    """Components it sends requests to once running, without needing them to start: it is
    stopped before them, so that they do not wait for its open connections to close."""


def start_argv(component: Component) -> tuple[str, ...]:
    """The command that starts `component` now."""
    fresh = component.argv_of_each_start
    return fresh() if fresh is not None else component.argv


def console_script(name: str) -> str:
    """The path of a console script installed in the runner's own environment."""
    return str(Path(sys.executable).parent / name)


def _moved_by(field_name: str) -> str:
    return RunnerSettings.env_var(field_name)


def _options(**values: str | int) -> tuple[str, ...]:
    """Command-line options in the order given: `smtp_port=1025` becomes `--smtp-port 1025`."""
    return tuple(
        part
        for name, value in values.items()
        for part in (f"--{name.replace('_', '-')}", str(value))
    )


async def _create_topics(bootstrap_servers: str, console: RunnerConsole) -> str | None:
    from strangler_runner.events import create_topics_in_runner  # aiokafka once the broker is up

    return await create_topics_in_runner(bootstrap_servers, console)


def system_components(
    settings: RunnerSettings, local_secrets: LocalSecrets, state: StateDir
) -> list[Component]:
    host = settings.host
    legacy_monolith = console_script("legacy-monolith")
    strangler_gateway = console_script("strangler-gateway")
    billing_service = console_script("billing-service")
    auth_service = console_script("auth-service")
    notifications_service = console_script("notifications-service")
    bootstrap_servers = settings.broker_bootstrap_servers

    mail_ui = f"http://{host}:{settings.mail_ui_port}"
    payments = f"http://{host}:{settings.payment_simulator_port}"
    monolith = f"http://{host}:{settings.monolith_port}"
    gateway = f"http://{host}:{settings.gateway_port}"
    operator_port = settings.gateway_admin_port
    billing = f"http://{host}:{settings.billing_port}"
    auth = f"http://{host}:{settings.auth_port}"
    # The session bridge: every side verifies the auth service's tokens against its key set,
    # and the monolith's tokens with the monolith's secret, until they have expired.
    auth_jwks = f"{auth}/.well-known/jwks.json"
    notifications = f"http://{host}:{settings.notifications_port}"

    return [
        Component(
            name="broker",
            argv=broker_argv(host, settings.broker_port),
            argv_of_each_start=lambda: broker_argv(
                host, settings.broker_port, cluster_id=new_cluster_id()
            ),
            ports=(PortBinding("kafka", settings.broker_port, _moved_by("broker_port")),),
            health_url=f"tcp://{bootstrap_servers}",
            urls={"kafka": f"kafka://{bootstrap_servers}"},
            once_healthy=(
                InProcessStep("create every topic", partial(_create_topics, bootstrap_servers)),
            ),
        ),
        Component(
            name="smtp-sink",
            argv=(
                console_script("smtp-sink"),
                "serve",
                *_options(host=host, smtp_port=settings.smtp_port, http_port=settings.mail_ui_port),
            ),
            ports=(
                PortBinding("smtp", settings.smtp_port, _moved_by("smtp_port")),
                PortBinding("mail viewer", settings.mail_ui_port, _moved_by("mail_ui_port")),
            ),
            health_url=f"{mail_ui}/health/ready",
            urls={"smtp": f"smtp://{host}:{settings.smtp_port}", "mail viewer": mail_ui},
        ),
        Component(
            name="payment-simulator",
            argv=(
                console_script("payment-simulator"),
                "serve",
                *_options(host=host, port=settings.payment_simulator_port),
            ),
            ports=(
                PortBinding(
                    "http", settings.payment_simulator_port, _moved_by("payment_simulator_port")
                ),
            ),
            env={"PAYSIM_STATE_PATH": str(state.data_dir / "payment-simulator.db")},
            health_url=f"{payments}/health/ready",
            urls={"http": payments},
        ),
        Component(
            name="legacy-monolith",
            # `serve --prepare` migrates and seeds first, in the serving process: one Python
            # start-up instead of two (a separate `prepare` costs as much CPU as the serving).
            argv=(
                legacy_monolith,
                "serve",
                "--prepare",
                *_options(host=host, port=settings.monolith_port),
            ),
            env={
                "MONOLITH_DATABASE_URL": f"sqlite+aiosqlite:///{state.data_dir / 'monolith.db'}",
                "MONOLITH_JWT_SECRET": local_secrets.jwt_secret,
                "MONOLITH_OPERATOR_TOKEN": local_secrets.admin_token,
                "MONOLITH_PAYMENT_PROVIDER_URL": payments,
                "MONOLITH_SMTP_HOST": host,
                "MONOLITH_SMTP_PORT": str(settings.smtp_port),
                "MONOLITH_KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers,
                "MONOLITH_KAFKA_KIND": "tansu",
                "MONOLITH_BILLING_SYNC_ENABLED": "true",
                "MONOLITH_AUTH_JWKS_URL": auth_jwks,
                "MONOLITH_AUTH_SYNC_ENABLED": "true",
                # The accounts side of account closures, until auth publishes events.
                "MONOLITH_ACCOUNT_CLOSURE_ENABLED": "true",
                # Who sends mail: the gateway's `mail` flag, read on its operator listener.
                "MONOLITH_MAIL_FLAG_URL": f"http://{host}:{operator_port}",
                "MONOLITH_NOTIFICATIONS_SYNC_ENABLED": "true",
            },
            needs=("broker",),
            talks_to=("smtp-sink", "payment-simulator"),
            outbox_replay=(legacy_monolith, "outbox", "replay"),
            ports=(PortBinding("http", settings.monolith_port, _moved_by("monolith_port")),),
            health_url=f"{monolith}/health/ready",
            urls={"http": monolith, "api": f"{monolith}/api"},
        ),
        Component(
            name="billing",
            argv=(
                billing_service,
                "serve",
                "--prepare",
                *_options(host=host, port=settings.billing_port),
            ),
            env={
                "BILLING_DATABASE_URL": f"sqlite+aiosqlite:///{state.data_dir / 'billing.db'}",
                "BILLING_JWT_SECRET": local_secrets.jwt_secret,
                "BILLING_OPERATOR_TOKEN": local_secrets.admin_token,
                "BILLING_PAYMENT_PROVIDER_URL": payments,
                "BILLING_KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers,
                "BILLING_KAFKA_KIND": "tansu",
                "BILLING_MONOLITH_URL": monolith,
                "BILLING_LEGACY_SYNC_ENABLED": "true",
                "BILLING_AUTH_JWKS_URL": auth_jwks,
                # Billing keeps the operators' view of account closures (a choreography).
                "BILLING_CHOREOGRAPHY_VIEW_ENABLED": "true",
            },
            needs=("broker",),
            talks_to=("legacy-monolith", "payment-simulator"),
            outbox_replay=(billing_service, "outbox", "replay"),
            ports=(PortBinding("http", settings.billing_port, _moved_by("billing_port")),),
            health_url=f"{billing}/health/ready",
            urls={"http": billing, "api": f"{billing}/api/billing"},
        ),
        Component(
            name="auth",
            argv=(
                auth_service,
                "serve",
                "--prepare",
                *_options(host=host, port=settings.auth_port),
            ),
            env={
                "AUTH_DATABASE_URL": f"sqlite+aiosqlite:///{state.data_dir / 'auth.db'}",
                "AUTH_OPERATOR_TOKEN": local_secrets.admin_token,
                # The session bridge: the monolith's tokens stay valid at auth until they expire.
                "AUTH_LEGACY_JWT_SECRET": local_secrets.jwt_secret,
                # Moving accounts: auth's events, the backfill from the monolith, the sync.
                "AUTH_KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers,
                "AUTH_KAFKA_KIND": "tansu",
                "AUTH_OUTBOX_RELAY_ENABLED": "true",
                "AUTH_MONOLITH_URL": monolith,
                "AUTH_LEGACY_SYNC_ENABLED": "true",
                "AUTH_ACCOUNT_CLOSURE_ENABLED": "true",
            },
            needs=("broker",),
            talks_to=("legacy-monolith",),
            ports=(PortBinding("http", settings.auth_port, _moved_by("auth_port")),),
            health_url=f"{auth}/health/ready",
            urls={"http": auth, "jwks": auth_jwks},
        ),
        Component(
            name="notifications",
            argv=(
                notifications_service,
                "serve",
                "--prepare",
                *_options(host=host, port=settings.notifications_port),
            ),
            env={
                "NOTIFICATIONS_DATABASE_URL": (
                    f"sqlite+aiosqlite:///{state.data_dir / 'notifications.db'}"
                ),
                "NOTIFICATIONS_JWT_SECRET": local_secrets.jwt_secret,
                "NOTIFICATIONS_OPERATOR_TOKEN": local_secrets.admin_token,
                "NOTIFICATIONS_KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers,
                "NOTIFICATIONS_KAFKA_KIND": "tansu",
                "NOTIFICATIONS_SMTP_HOST": host,
                "NOTIFICATIONS_SMTP_PORT": str(settings.smtp_port),
                # Its history and preferences: backfilled from the monolith's export, and
                # the monolith's later changes applied from its events.
                "NOTIFICATIONS_MONOLITH_URL": monolith,
                "NOTIFICATIONS_LEGACY_SYNC_ENABLED": "true",
                "NOTIFICATIONS_AUTH_JWKS_URL": auth_jwks,
            },
            needs=("broker",),
            talks_to=("smtp-sink",),
            outbox_replay=(notifications_service, "outbox", "replay"),
            ports=(
                PortBinding("http", settings.notifications_port, _moved_by("notifications_port")),
            ),
            health_url=f"{notifications}/health/ready",
            urls={"http": notifications, "api": f"{notifications}/api/notifications"},
        ),
        Component(
            name="gateway",
            # `serve --prepare` migrates the flag tables first, in the serving process.
            argv=(
                strangler_gateway,
                "serve",
                "--prepare",
                *_options(host=host, port=settings.gateway_port, admin_port=operator_port),
            ),
            env={
                "GATEWAY_DATABASE_URL": f"sqlite+aiosqlite:///{state.data_dir / 'gateway.db'}",
                "GATEWAY_ADMIN_TOKEN": local_secrets.admin_token,
                "GATEWAY_LEGACY_URL": monolith,
                "GATEWAY_BILLING_URL": billing,
                "GATEWAY_AUTH_URL": auth,
                # `/api/notifications` (and its preferences alone) when their flags say new.
                "GATEWAY_NOTIFICATIONS_URL": notifications,
                "GATEWAY_AUTH_JWKS_URL": auth_jwks,
                "GATEWAY_LEGACY_JWT_SECRET": local_secrets.jwt_secret,
            },
            talks_to=("legacy-monolith", "billing", "auth"),
            ports=(
                PortBinding("http", settings.gateway_port, _moved_by("gateway_port")),
                PortBinding("operator", operator_port, _moved_by("gateway_admin_port")),
            ),
            health_url=f"{gateway}/health/ready",
            urls={
                "public entry": gateway,
                "operator": f"http://{host}:{operator_port}",
                "admin": f"http://{host}:{operator_port}/_strangler/flags",
                "metrics": f"http://{host}:{operator_port}/metrics",
            },
        ),
    ]
