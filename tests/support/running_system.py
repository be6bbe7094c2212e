"""The whole system, started for real by `strangler up` on free ports in a temporary state dir.

Tests get it through the `system` and `launch_system` fixtures in tests/e2e/conftest.py;
this module holds the mechanics.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from local_processes import ChildProcess, die_with_parent, is_alive

HOST = "127.0.0.1"
READY_TIMEOUT_SECONDS = 120.0  # above the runner's own health timeout (60 s)
STOP_TIMEOUT_SECONDS = 60.0
CHILDREN_GONE_TIMEOUT_SECONDS = 30.0
OUTPUT_TAIL_LINES = 200
STRANGLER = (sys.executable, "-m", "strangler_runner")
"""How tests run `strangler`: this interpreter, the installed package."""


@dataclass
class RunningSystem:
    process: subprocess.Popen[bytes]
    state_dir: Path
    env: dict[str, str]
    log_path: Path
    broker_bootstrap: str
    gateway_url: str
    gateway_admin_url: str
    monolith_url: str
    billing_url: str
    notifications_url: str
    auth_url: str
    payment_simulator_url: str
    smtp_host: str
    smtp_port: int
    mail_url: str
    child_pids: list[int]
    command: tuple[str, ...] = STRANGLER

    @property
    def api_url(self) -> str:
        return f"{self.monolith_url}/api"

    @property
    def run_file(self) -> Path:
        return self.state_dir / "run.json"

    def run_record(self) -> dict[str, Any]:
        record: dict[str, Any] = json.loads(self.run_file.read_text())
        return record

    def component(self, name: str) -> dict[str, Any]:
        """What run.json says of one component now: pid, state, restarts, last_exit."""
        records: list[dict[str, Any]] = self.run_record()["components"]
        return next(record for record in records if record["name"] == name)

    def secrets(self) -> dict[str, str]:
        """The runner's generated secrets (`jwt_secret`, `admin_token`)."""
        stored: dict[str, str] = json.loads((self.state_dir / "secrets.json").read_text())
        return stored

    def strangler(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run another `strangler` command against this system, output captured."""
        return run_strangler(self.env, *args, timeout=timeout, command=self.command)

    def strangler_ok(self, *args: str, timeout: float = 60) -> str:
        """Run a `strangler` command that must succeed (exit 0, no traceback); its stdout."""
        result = self.strangler(*args, timeout=timeout)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Traceback" not in result.stderr
        return result.stdout

    def output(self) -> str:
        """The last lines the runner printed (its own and its children's)."""
        lines = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(lines[-OUTPUT_TAIL_LINES:])

    def running_children(self) -> list[int]:
        return [pid for pid in self.child_pids if is_running(pid)]

    def wait_until_children_gone(self, timeout: float = CHILDREN_GONE_TIMEOUT_SECONDS) -> list[int]:
        """The children still running once `timeout` has passed (empty as soon as none are)."""
        deadline = time.monotonic() + timeout
        while (survivors := self.running_children()) and time.monotonic() < deadline:
            time.sleep(0.1)
        return survivors

    def wait_for_runner_exit(self, timeout: float = STOP_TIMEOUT_SECONDS) -> int | None:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None


def is_running(pid: int) -> bool:
    """Whether `pid` still runs; a zombie nobody has reaped yet counts as gone."""
    return is_alive(pid)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def free_ports(count: int) -> list[int]:
    ports: set[int] = set()
    while len(ports) < count:
        ports.add(free_port())
    return sorted(ports)


def runner_env(state_dir: Path, **ports: int) -> dict[str, str]:
    """The caller's environment with every STRANGLER_* setting replaced by ours."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("STRANGLER_")}
    env["STRANGLER_HOST"] = HOST
    env["STRANGLER_STATE_DIR"] = str(state_dir)
    env.update({f"STRANGLER_{name.upper()}": str(port) for name, port in ports.items()})
    # The hanging test card must time out in seconds, not the production-like ten.
    env["MONOLITH_PAYMENT_TIMEOUT_SECONDS"] = "1.5"
    env["BILLING_PAYMENT_TIMEOUT_SECONDS"] = "1.5"
    env["PAYSIM_HANG_SECONDS"] = "4"
    return env


def run_strangler(
    env: dict[str, str], *args: str, timeout: float = 60, command: tuple[str, ...] = STRANGLER
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*command, *args],
        env={**env, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start_strangler(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    """A `strangler` command left running (`events tail`), its output in pipes."""
    return subprocess.Popen(
        [*STRANGLER, *args],
        env={**env, "COLUMNS": "200"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=die_with_parent(),
    )


def start_system(
    state_dir: Path, *, command: tuple[str, ...] = STRANGLER, path: str | None = None
) -> RunningSystem:
    """`strangler up` in the background; returns once `strangler status` reports all up.

    `command` is how `strangler` is run (e.g. the `./strangler` launcher), `path` the PATH
    it and every later command get (default: the caller's).
    """
    broker, monolith, payments, smtp, mail, gateway, gateway_admin, billing, auth, notifications = (
        free_ports(10)
    )
    env = runner_env(
        state_dir,
        broker_port=broker,
        monolith_port=monolith,
        billing_port=billing,
        notifications_port=notifications,
        auth_port=auth,
        gateway_port=gateway,
        gateway_admin_port=gateway_admin,
        payment_simulator_port=payments,
        smtp_port=smtp,
        mail_ui_port=mail,
    )
    if path is not None:
        env["PATH"] = path
        env.pop("VIRTUAL_ENV", None)
    state_dir.mkdir(parents=True, exist_ok=True)
    log_path = state_dir.parent / f"{state_dir.name}-runner.log"
    with log_path.open("wb") as log:
        process = ChildProcess.start([*command, "up"], env=env, stdout=log).process
    system = RunningSystem(
        process=process,
        state_dir=state_dir,
        env=env,
        log_path=log_path,
        broker_bootstrap=f"{HOST}:{broker}",
        monolith_url=f"http://{HOST}:{monolith}",
        gateway_url=f"http://{HOST}:{gateway}",
        gateway_admin_url=f"http://{HOST}:{gateway_admin}",
        billing_url=f"http://{HOST}:{billing}",
        notifications_url=f"http://{HOST}:{notifications}",
        auth_url=f"http://{HOST}:{auth}",
        payment_simulator_url=f"http://{HOST}:{payments}",
        smtp_host=HOST,
        smtp_port=smtp,
        mail_url=f"http://{HOST}:{mail}",
        child_pids=[],
        command=command,
    )
    try:
        _wait_until_up(system)
    except BaseException:
        force_stop(system)
        raise
    system.child_pids = [component["pid"] for component in system.run_record()["components"]]
    return system


def _wait_until_up(system: RunningSystem) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if system.process.poll() is not None:
            pytest.fail(
                f"`strangler up` exited with code {system.process.returncode} before the "
                f"system was up:\n{system.output()}"
            )
        # run.json says "running" once every component is healthy; reading it costs nothing,
        # while each `strangler status` is a Python process competing with the start-up.
        if _phase(system) == "running" and _status_succeeds(system, deadline):
            return
        time.sleep(0.2)
    pytest.fail(
        f"the system was not up within {READY_TIMEOUT_SECONDS:g} s:\n"
        f"{system.strangler('status').stdout}\n{system.output()}"
    )


def _status_succeeds(system: RunningSystem, deadline: float) -> bool:
    """`strangler status` exits 0. It has until the deadline: a Python process that starts
    slowly on a loaded machine is no failure of the system (30 s were seen exceeded)."""
    try:
        return (
            system.strangler("status", timeout=max(deadline - time.monotonic(), 1)).returncode == 0
        )
    except subprocess.TimeoutExpired:
        return False


def _phase(system: RunningSystem) -> str | None:
    try:
        phase = system.run_record().get("phase")
    except (OSError, ValueError):
        return None
    return phase if isinstance(phase, str) else None


def force_stop(system: RunningSystem) -> None:
    """Leave nothing behind, whatever state the runner is in; asserts nothing."""
    record_pids: list[int] = []
    with contextlib.suppress(OSError, ValueError):
        record_pids = [component["pid"] for component in system.run_record()["components"]]
    if system.process.poll() is None:
        system.process.send_signal(signal.SIGTERM)
        if system.wait_for_runner_exit() is None:
            system.process.kill()
            system.process.wait()
    for pid in {*system.child_pids, *record_pids}:
        if is_running(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)


def stop_system(system: RunningSystem) -> None:
    """SIGTERM the runner and check that it exits cleanly, taking every child with it."""
    system.process.send_signal(signal.SIGTERM)
    returncode = system.wait_for_runner_exit()
    survivors = system.wait_until_children_gone()
    if returncode is None or survivors:
        force_stop(system)
    assert returncode == 0, f"`strangler up` ended with {returncode}:\n{system.output()}"
    assert survivors == [], f"children outlived the runner: {survivors}\n{system.output()}"
