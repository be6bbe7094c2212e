import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from strangler_runner.components import system_components
from strangler_runner.ports import find_port_problems
from strangler_runner.settings import RunnerSettings
from strangler_runner.state import LocalSecrets, StateDir

HOST = "127.0.0.1"


@pytest.fixture
def listener() -> Iterator[int]:
    with socket.socket() as held:
        held.bind((HOST, 0))
        held.listen()
        yield held.getsockname()[1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _problems(
    tmp_path: Path,
    *,
    monolith_port: int,
    payment_simulator_port: int,
    smtp_port: int,
    mail_ui_port: int,
) -> list[str]:
    settings = RunnerSettings(
        state_dir=tmp_path,
        broker_port=_free_port(),
        monolith_port=monolith_port,
        payment_simulator_port=payment_simulator_port,
        smtp_port=smtp_port,
        mail_ui_port=mail_ui_port,
    )
    components = system_components(settings, LocalSecrets(), StateDir(tmp_path))
    return [problem.message for problem in find_port_problems(HOST, components)]


def test_a_port_someone_listens_on_is_named_with_its_component_and_setting(
    tmp_path: Path, listener: int
) -> None:
    problems = _problems(
        tmp_path,
        monolith_port=listener,
        payment_simulator_port=_free_port(),
        smtp_port=_free_port(),
        mail_ui_port=_free_port(),
    )

    assert problems == [
        f"port {listener} (legacy-monolith) is already in use — "
        "stop whatever holds it or set STRANGLER_MONOLITH_PORT"
    ]


def test_free_ports_raise_no_problem(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        monolith_port=_free_port(),
        payment_simulator_port=_free_port(),
        smtp_port=_free_port(),
        mail_ui_port=_free_port(),
    )

    assert problems == []


def test_two_components_configured_on_one_port_is_a_problem(tmp_path: Path) -> None:
    shared = _free_port()

    problems = _problems(
        tmp_path,
        monolith_port=shared,
        payment_simulator_port=shared,
        smtp_port=_free_port(),
        mail_ui_port=_free_port(),
    )

    assert len(problems) == 1
    assert (
        f"port {shared} is configured for both payment-simulator and legacy-monolith"
        in (problems[0])
    )
