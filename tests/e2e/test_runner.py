"""`strangler up / status / down` as a person uses them, with real processes."""

import signal
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.running_system import HOST, RunningSystem, free_ports, run_strangler, runner_env

pytestmark = pytest.mark.e2e

COMPONENTS = ("smtp-sink", "payment-simulator", "legacy-monolith")


def test_status_lists_every_component_as_up(system: RunningSystem) -> None:
    result = system.strangler("status")

    assert result.returncode == 0, result.stdout + result.stderr
    recorded = system.run_record()["components"]
    assert [component["name"] for component in recorded] == list(COMPONENTS)
    rows = result.stdout.splitlines()
    for component in recorded:
        row = next(line for line in rows if component["name"] in line)
        assert " up " in row
        assert str(component["pid"]) in row


def test_up_refuses_to_start_a_second_runner_on_the_same_state(system: RunningSystem) -> None:
    result = system.strangler("up")

    assert result.returncode == 1
    assert f"runner pid {system.process.pid}" in result.stderr
    assert system.strangler("status").returncode == 0


def test_a_taken_port_fails_up_naming_the_port_and_starts_nothing(tmp_path: Path) -> None:
    payments, smtp, mail = free_ports(3)
    with socket.socket() as held:
        held.bind((HOST, 0))
        held.listen()
        taken = held.getsockname()[1]
        env = runner_env(
            tmp_path / "state",
            monolith_port=taken,
            payment_simulator_port=payments,
            smtp_port=smtp,
            mail_ui_port=mail,
        )

        result = run_strangler(env, "up")

    assert result.returncode == 1
    assert (
        f"port {taken} (legacy-monolith) is already in use — stop whatever holds it or set "
        "STRANGLER_MONOLITH_PORT"
    ) in result.stderr
    assert "starting" not in result.stdout
    assert not (tmp_path / "state" / "run.json").exists()
    for port in (payments, smtp, mail):
        with socket.socket() as probe:
            probe.bind((HOST, port))


def test_sigterm_to_the_runner_stops_every_child(
    launch_system: Callable[[], RunningSystem],
) -> None:
    running = launch_system()
    assert running.running_children() == running.child_pids

    running.process.send_signal(signal.SIGTERM)

    assert running.wait_for_runner_exit() == 0, running.output()
    assert running.wait_until_children_gone() == []
    assert not running.run_file.exists()
    assert "every component has stopped" in running.output()


def test_down_stops_the_runner_and_every_child(launch_system: Callable[[], RunningSystem]) -> None:
    running = launch_system()

    result = running.strangler("down", timeout=120)

    assert result.returncode == 0, result.stdout + result.stderr
    assert running.wait_for_runner_exit() == 0
    assert running.wait_until_children_gone() == []
    assert running.strangler("status").stdout.strip() == "not running"


def test_sigkill_of_the_runner_still_takes_every_child_down(
    launch_system: Callable[[], RunningSystem],
) -> None:
    running = launch_system()

    running.process.send_signal(signal.SIGKILL)
    running.process.wait()

    assert running.wait_until_children_gone() == []
    status = running.strangler("status")
    assert status.returncode == 1
    assert status.stdout.strip() == "not running"
