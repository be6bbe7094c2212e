"""A component that dies is started again while the rest keeps serving; a person can stop,
start and restart one component of a running system (`strangler stop|start|restart`)."""

import os
import signal
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.support.polling import eventually
from tests.support.running_system import RunningSystem, force_stop, is_running, start_system

pytestmark = pytest.mark.e2e

RESTART_WITHIN_SECONDS = 60.0
STAYS_STOPPED_SECONDS = 3.0


@pytest.fixture(scope="module")
def supervised(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    """A system of its own: these tests kill and stop its components; the last one stops it."""
    running = start_system(tmp_path_factory.mktemp("supervised") / "state")
    yield running
    force_stop(running)


async def _answers(url: str) -> bool:
    async with httpx.AsyncClient(timeout=2, trust_env=False) as client:
        try:
            return (await client.get(url)).status_code == 200
        except httpx.TransportError:
            return False


def _status_row(system: RunningSystem, name: str) -> str:
    status = system.strangler("status")
    return next(line for line in status.stdout.splitlines() if f" {name} " in line)


async def test_a_killed_component_is_restarted_while_the_others_keep_serving(
    supervised: RunningSystem,
) -> None:
    killed = supervised.component("billing")
    restarts_before = killed["restarts"]

    os.killpg(killed["pid"], signal.SIGKILL)

    async def billing_is_down() -> bool:
        return not await _answers(f"{supervised.billing_url}/health/live")

    await eventually(billing_is_down, "billing is down", 30)
    async with httpx.AsyncClient(timeout=10, trust_env=False) as client:
        during_the_outage = await client.get(f"{supervised.gateway_url}/api/billing/plans")

    async def restarted() -> bool:
        billing = supervised.component("billing")
        return billing["state"] == "up" and billing["pid"] != killed["pid"]

    await eventually(restarted, "billing runs again", RESTART_WITHIN_SECONDS)
    assert during_the_outage.status_code == 200
    assert await _answers(f"{supervised.billing_url}/health/ready")
    billing = supervised.component("billing")
    assert billing["restarts"] == restarts_before + 1
    assert billing["last_exit"] == "was killed by SIGKILL unexpectedly"
    row = _status_row(supervised, "billing")
    assert " up " in row
    assert f" {restarts_before + 1} " in row
    assert "was killed by SIGKILL" in row
    assert supervised.strangler("status").returncode == 0
    assert "error: billing was killed by SIGKILL unexpectedly" in supervised.output()
    assert supervised.process.poll() is None


async def test_stop_keeps_a_component_down_until_start_brings_it_back(
    supervised: RunningSystem,
) -> None:
    stopped = supervised.component("billing")

    stop = supervised.strangler("stop", "billing", timeout=120)

    assert stop.returncode == 0, stop.stdout + stop.stderr
    assert not is_running(stopped["pid"])
    time.sleep(STAYS_STOPPED_SECONDS)  # longer than the first restart delay: nothing restarts it
    assert supervised.component("billing")["state"] == "stopped"
    assert not await _answers(f"{supervised.billing_url}/health/live")
    assert " stopped " in _status_row(supervised, "billing")
    assert supervised.strangler("status").returncode == 1
    assert await _answers(f"{supervised.monolith_url}/health/ready")

    start = supervised.strangler("start", "billing", timeout=120)

    assert start.returncode == 0, start.stdout + start.stderr
    assert await _answers(f"{supervised.billing_url}/health/ready")
    assert supervised.component("billing")["state"] == "up"
    assert supervised.strangler("status").returncode == 0


async def test_restart_replaces_the_process_and_counts_it(supervised: RunningSystem) -> None:
    before = supervised.component("legacy-monolith")

    restart = supervised.strangler("restart", "legacy-monolith", timeout=120)

    assert restart.returncode == 0, restart.stdout + restart.stderr
    after = supervised.component("legacy-monolith")
    assert after["pid"] != before["pid"]
    assert not is_running(before["pid"])
    assert after["restarts"] == before["restarts"] + 1
    assert after["last_exit"] == "restarted on request"
    assert await _answers(f"{supervised.monolith_url}/health/ready")


def test_an_unknown_component_is_refused_naming_the_known_ones(supervised: RunningSystem) -> None:
    result = supervised.strangler("restart", "bil")

    assert result.returncode == 1
    assert "no component named 'bil" in result.stderr
    assert "legacy-monolith, billing, auth, notifications, gateway" in result.stderr


def test_down_with_the_broker_gone_stops_every_component_on_sigterm(
    supervised: RunningSystem,
) -> None:
    assert supervised.strangler("stop", "broker", timeout=120).returncode == 0
    pids = [record["pid"] for record in supervised.run_record()["components"]]

    down = supervised.strangler("down", timeout=120)

    assert down.returncode == 0, down.stdout + down.stderr
    assert supervised.wait_for_runner_exit() == 0
    assert [pid for pid in pids if is_running(pid)] == []
    assert "after SIGTERM; killing it" not in supervised.output()
    assert "every component has stopped" in supervised.output()
