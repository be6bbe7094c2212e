import sys
from pathlib import Path

import pytest
from embedded_broker import tansu_binary
from strangler_runner.components import Component, InProcessStep, system_components
from strangler_runner.settings import RunnerSettings
from strangler_runner.state import LocalSecrets, StateDir

SECRETS = LocalSecrets(jwt_secret="jwt-for-tests", admin_token="admin-for-tests")


def _component(name: str, settings: RunnerSettings) -> Component:
    components = system_components(settings, SECRETS, StateDir(settings.state_dir))
    return next(component for component in components if component.name == name)


@pytest.fixture
def settings(tmp_path: Path) -> RunnerSettings:
    return RunnerSettings(
        state_dir=tmp_path / "state",
        broker_port=19092,
        monolith_port=18001,
        billing_port=18003,
        notifications_port=18004,
        auth_port=18002,
        payment_simulator_port=18009,
        smtp_port=11025,
        mail_ui_port=18025,
    )


def test_components_start_in_dependency_order(settings: RunnerSettings) -> None:
    components = system_components(settings, SECRETS, StateDir(settings.state_dir))

    assert [component.name for component in components] == [
        "broker",
        "smtp-sink",
        "payment-simulator",
        "legacy-monolith",
        "billing",
        "auth",
        "notifications",
        "gateway",
    ]


def test_the_monolith_environment_points_at_local_state_and_the_other_components(
    settings: RunnerSettings,
) -> None:
    monolith = _component("legacy-monolith", settings)

    database = settings.state_dir / "data" / "monolith.db"
    assert database.is_absolute()
    assert monolith.env == {
        "MONOLITH_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "MONOLITH_JWT_SECRET": "jwt-for-tests",
        "MONOLITH_OPERATOR_TOKEN": "admin-for-tests",
        "MONOLITH_PAYMENT_PROVIDER_URL": "http://127.0.0.1:18009",
        "MONOLITH_SMTP_HOST": "127.0.0.1",
        "MONOLITH_SMTP_PORT": "11025",
        "MONOLITH_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:19092",
        "MONOLITH_KAFKA_KIND": "tansu",
        "MONOLITH_BILLING_SYNC_ENABLED": "true",
        "MONOLITH_AUTH_JWKS_URL": "http://127.0.0.1:18002/.well-known/jwks.json",
        "MONOLITH_AUTH_SYNC_ENABLED": "true",
        "MONOLITH_ACCOUNT_CLOSURE_ENABLED": "true",
        "MONOLITH_MAIL_FLAG_URL": "http://127.0.0.1:8081",
        "MONOLITH_NOTIFICATIONS_SYNC_ENABLED": "true",
    }


def test_the_monolith_is_migrated_then_seeded_before_it_serves(settings: RunnerSettings) -> None:
    monolith = _component("legacy-monolith", settings)
    program = str(Path(sys.executable).parent / "legacy-monolith")

    assert monolith.prepare == ()
    assert monolith.argv == (
        program, "serve", "--prepare", "--host", "127.0.0.1", "--port", "18001"
    )  # fmt: skip
    assert monolith.health_url == "http://127.0.0.1:18001/health/ready"
    assert monolith.urls["api"] == "http://127.0.0.1:18001/api"


def test_the_gateway_migrates_its_flag_tables_before_it_serves(settings: RunnerSettings) -> None:
    gateway = _component("gateway", settings)
    program = str(Path(sys.executable).parent / "strangler-gateway")

    assert gateway.prepare == ()
    assert gateway.argv[:3] == (program, "serve", "--prepare")
    database = settings.state_dir / "data" / "gateway.db"
    assert gateway.env["GATEWAY_DATABASE_URL"] == f"sqlite+aiosqlite:///{database}"


def test_billing_gets_its_own_database_the_shared_jwt_secret_and_the_broker(
    settings: RunnerSettings,
) -> None:
    billing = _component("billing", settings)
    program = str(Path(sys.executable).parent / "billing-service")

    database = settings.state_dir / "data" / "billing.db"
    assert billing.env == {
        "BILLING_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "BILLING_JWT_SECRET": "jwt-for-tests",
        "BILLING_OPERATOR_TOKEN": "admin-for-tests",
        "BILLING_PAYMENT_PROVIDER_URL": "http://127.0.0.1:18009",
        "BILLING_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:19092",
        "BILLING_KAFKA_KIND": "tansu",
        "BILLING_MONOLITH_URL": "http://127.0.0.1:18001",
        "BILLING_LEGACY_SYNC_ENABLED": "true",
        "BILLING_AUTH_JWKS_URL": "http://127.0.0.1:18002/.well-known/jwks.json",
        "BILLING_CHOREOGRAPHY_VIEW_ENABLED": "true",
    }
    assert billing.prepare == ()
    assert billing.argv == (program, "serve", "--prepare", "--host", "127.0.0.1", "--port", "18003")
    assert billing.health_url == "http://127.0.0.1:18003/health/ready"
    assert billing.outbox_replay == (program, "outbox", "replay")
    assert _component("gateway", settings).env["GATEWAY_BILLING_URL"] == "http://127.0.0.1:18003"


def test_the_broker_is_tansu_on_its_port_and_creates_every_topic_once_it_accepts(
    settings: RunnerSettings,
) -> None:
    broker = _component("broker", settings)

    assert Path(broker.argv[0]) == tansu_binary()
    assert broker.argv[1:] == (
        "broker",
        "--listener-url",
        "tcp://127.0.0.1:19092",
        "--advertised-listener-url",
        "tcp://127.0.0.1:19092",
        "--storage-engine",
        "memory://tansu/",
    )
    assert [(port.number, port.setting) for port in broker.ports] == [
        (19092, "STRANGLER_BROKER_PORT")
    ]
    assert broker.health_url == "tcp://127.0.0.1:19092"
    assert broker.urls == {"kafka": "kafka://127.0.0.1:19092"}
    assert broker.prepare == ()
    assert [step.label for step in broker.once_healthy] == ["create every topic"]
    assert all(isinstance(step, InProcessStep) for step in broker.once_healthy)


def test_the_broker_port_defaults_to_kafkas_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STRANGLER_BROKER_PORT", raising=False)

    assert RunnerSettings().broker_port == 9092


def test_the_smtp_sink_gets_both_of_its_ports(settings: RunnerSettings) -> None:
    sink = _component("smtp-sink", settings)

    assert sink.argv[1:] == (
        "serve",
        "--host",
        "127.0.0.1",
        "--smtp-port",
        "11025",
        "--http-port",
        "18025",
    )
    assert [(port.number, port.setting) for port in sink.ports] == [
        (11025, "STRANGLER_SMTP_PORT"),
        (18025, "STRANGLER_MAIL_UI_PORT"),
    ]
    assert sink.health_url == "http://127.0.0.1:18025/health/ready"


def test_the_state_directory_defaults_to_dot_strangler_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STRANGLER_STATE_DIR", raising=False)

    assert RunnerSettings().state_dir == (tmp_path / ".strangler").resolve()


def test_a_relative_state_directory_is_made_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STRANGLER_STATE_DIR", "elsewhere")

    assert RunnerSettings().state_dir == (tmp_path / "elsewhere").resolve()


def test_auth_keeps_its_database_in_the_state_dir_and_trusts_the_monolith_s_tokens(
    settings: RunnerSettings,
) -> None:
    auth = _component("auth", settings)
    program = str(Path(sys.executable).parent / "auth-service")

    database = settings.state_dir / "data" / "auth.db"
    assert auth.argv == (
        program, "serve", "--prepare", "--host", "127.0.0.1", "--port", "18002"
    )  # fmt: skip
    assert auth.env == {
        "AUTH_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "AUTH_OPERATOR_TOKEN": "admin-for-tests",
        "AUTH_LEGACY_JWT_SECRET": "jwt-for-tests",
        "AUTH_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:19092",
        "AUTH_KAFKA_KIND": "tansu",
        "AUTH_OUTBOX_RELAY_ENABLED": "true",
        "AUTH_MONOLITH_URL": "http://127.0.0.1:18001",
        "AUTH_LEGACY_SYNC_ENABLED": "true",
        "AUTH_ACCOUNT_CLOSURE_ENABLED": "true",
    }
    assert auth.needs == ("broker",)
    assert auth.health_url == "http://127.0.0.1:18002/health/ready"
    assert _component("gateway", settings).env["GATEWAY_AUTH_URL"] == "http://127.0.0.1:18002"


def test_on_the_session_bridge_every_side_verifies_auth_s_tokens_and_the_monolith_s(
    settings: RunnerSettings,
) -> None:
    jwks = "http://127.0.0.1:18002/.well-known/jwks.json"
    gateway = _component("gateway", settings).env

    assert _component("legacy-monolith", settings).env["MONOLITH_AUTH_JWKS_URL"] == jwks
    assert _component("billing", settings).env["BILLING_AUTH_JWKS_URL"] == jwks
    assert _component("notifications", settings).env["NOTIFICATIONS_AUTH_JWKS_URL"] == jwks
    assert (gateway["GATEWAY_AUTH_JWKS_URL"], gateway["GATEWAY_LEGACY_JWT_SECRET"]) == (
        jwks,
        "jwt-for-tests",
    )


def test_notifications_reads_the_broker_and_sends_to_the_sink(settings: RunnerSettings) -> None:
    notifications = _component("notifications", settings)

    database = settings.state_dir / "data" / "notifications.db"
    assert notifications.argv[1:] == (
        "serve", "--prepare", "--host", "127.0.0.1", "--port", "18004"
    )  # fmt: skip
    assert notifications.env == {
        "NOTIFICATIONS_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "NOTIFICATIONS_JWT_SECRET": "jwt-for-tests",
        "NOTIFICATIONS_OPERATOR_TOKEN": "admin-for-tests",
        "NOTIFICATIONS_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:19092",
        "NOTIFICATIONS_KAFKA_KIND": "tansu",
        "NOTIFICATIONS_SMTP_HOST": "127.0.0.1",
        "NOTIFICATIONS_SMTP_PORT": "11025",
        "NOTIFICATIONS_MONOLITH_URL": "http://127.0.0.1:18001",
        "NOTIFICATIONS_LEGACY_SYNC_ENABLED": "true",
        "NOTIFICATIONS_AUTH_JWKS_URL": "http://127.0.0.1:18002/.well-known/jwks.json",
    }
    assert notifications.needs == ("broker",)
    assert _component("gateway", settings).env["GATEWAY_NOTIFICATIONS_URL"] == (
        "http://127.0.0.1:18004"
    )
    assert notifications.health_url == "http://127.0.0.1:18004/health/ready"
