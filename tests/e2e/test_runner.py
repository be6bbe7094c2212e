"""`strangler up / status / down / events` as a person uses them, with real processes."""

import queue
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from strangler_contracts import ALL_TOPICS, CloudEvent, TopicSpec
from strangler_eventing import BrokerConfig, create_producer, ensure_topics

from tests.support.running_system import (
    HOST,
    RunningSystem,
    free_ports,
    run_strangler,
    runner_env,
    start_strangler,
)

pytestmark = pytest.mark.e2e

COMPONENTS = (
    "broker",
    "smtp-sink",
    "payment-simulator",
    "legacy-monolith",
    "billing",
    "auth",
    "notifications",
    "gateway",
)
TAIL_TIMEOUT_SECONDS = 30.0


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
    broker, payments, smtp, mail = free_ports(4)
    with socket.socket() as held:
        held.bind((HOST, 0))
        held.listen()
        taken = held.getsockname()[1]
        env = runner_env(
            tmp_path / "state",
            broker_port=broker,
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
    for port in (broker, payments, smtp, mail):
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


def test_up_creates_every_contract_topic_with_its_partition_count(system: RunningSystem) -> None:
    result = system.strangler("events", "topics")

    assert result.returncode == 0, result.stdout + result.stderr
    cells = [[cell.strip() for cell in line.split("│")] for line in result.stdout.splitlines()]
    partitions = {row[1]: int(row[2]) for row in cells if len(row) > 3 and row[2].isdigit()}
    assert {spec.name: spec.partitions for spec in ALL_TOPICS}.items() <= partitions.items()


async def test_tail_prints_events_produced_after_it_started_and_stops_on_ctrl_c(
    system: RunningSystem,
) -> None:
    config = BrokerConfig(bootstrap_servers=system.broker_bootstrap)
    topic = TopicSpec(f"e2e.tail.{uuid.uuid4().hex[:8]}", 1, "Private to this test.")
    await ensure_topics(config, [topic])
    await _publish(config, topic.name, subject="produced-before-tail")

    tail = start_strangler(system.env, "events", "tail", topic.name)
    try:
        _wait_until_following(tail)
        lines = _lines_of(tail)
        await _publish(config, topic.name, subject="produced-while-tailing")
        seen = _read_until(lines, "subject=produced-while-tailing")
        tail.send_signal(signal.SIGINT)
        returncode = tail.wait(timeout=TAIL_TIMEOUT_SECONDS)
    finally:
        tail.kill()
        tail.wait()

    assert returncode == 0, tail.stderr.read() if tail.stderr else ""
    assert "traceparent=00-" in seen[-1]
    assert f"{topic.name}/0@1" in seen[-1]
    assert not any("produced-before-tail" in line for line in seen)


async def _publish(config: BrokerConfig, topic: str, *, subject: str) -> None:
    event = CloudEvent(
        source="/e2e", type="dev.strangler-fig.e2e.probe.v1", subject=subject, data={}
    )
    traceparent = f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"
    producer = create_producer(config)
    await producer.start()
    try:
        await producer.send_and_wait(
            topic,
            event.model_dump_json().encode(),
            key=subject.encode(),
            headers=[("traceparent", traceparent.encode())],
        )
    finally:
        await producer.stop()


def _wait_until_following(tail: subprocess.Popen[str]) -> None:
    """Tail says so on stderr once every partition is assigned; from then on nothing is missed."""
    assert tail.stderr is not None
    said: list[str] = []
    while line := tail.stderr.readline():
        said.append(line)
        if line.startswith("following"):
            return
    pytest.fail(f"tail exited with {tail.wait()} before following:\n{''.join(said)}")


def _lines_of(process: subprocess.Popen[str]) -> queue.Queue[str]:
    """The process's stdout lines as they come, read by a thread so that waits can time out."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _read_until(lines: queue.Queue[str], marker: str) -> list[str]:
    deadline = time.monotonic() + TAIL_TIMEOUT_SECONDS
    seen: list[str] = []
    while not any(marker in line for line in seen):
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no line with {marker!r} within {TAIL_TIMEOUT_SECONDS:g} s: {seen}"
        try:
            seen.append(lines.get(timeout=remaining))
        except queue.Empty:
            continue
    return seen
