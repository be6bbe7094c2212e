"""`EmbeddedBroker`: one tansu process on a port of the caller's choosing, started for sure."""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO

from local_processes import ChildProcess, port_is_free

from embedded_broker.binary import broker_argv, new_cluster_id, tansu_binary
from embedded_broker.probe import advertised_brokers

__all__ = ["BrokerStartError", "EmbeddedBroker"]

_POLL_INTERVAL_SECONDS = 0.05
_PROBE_TIMEOUT_SECONDS = 1.0
_OUTPUT_SHOWN_CHARS = 4000
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


class BrokerStartError(RuntimeError):
    """The broker did not start: its port is taken, it exited, or it never answered."""


class EmbeddedBroker:
    """A tansu broker with memory storage on `host:port`; `start()` returns once it is ready.

    tansu cannot listen on port 0 and report the port it got, so the caller picks a free
    port (bind port 0 on a socket of its own, read the number, close it).

    `after_start`, when given, runs after every start and restart once the broker answers:
    the place to create topics, which a restart loses along with every record.

    Every start gets a new cluster id unless `cluster_id` fixes one (as a supervisor
    restarting the same command line does): clients can tell a new, empty broker by it.

    The methods block; from async code call them through `asyncio.to_thread`.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 9092,
        *,
        ready_timeout_seconds: float = 15.0,
        stop_timeout_seconds: float = 5.0,
        after_start: Callable[[EmbeddedBroker], None] | None = None,
        binary: Path | None = None,
        cluster_id: str | None = None,
    ) -> None:
        if not 0 < port < 65536:
            raise ValueError(f"port must be between 1 and 65535, not {port}")
        self.host = host
        self.port = port
        self._ready_timeout_seconds = ready_timeout_seconds
        self._stop_timeout_seconds = stop_timeout_seconds
        self._after_start = after_start
        self._binary = binary
        self._process: ChildProcess | None = None
        self._output: IO[bytes] | None = None
        self._fixed_cluster_id = cluster_id
        self._cluster_id = cluster_id or new_cluster_id()

    @property
    def bootstrap_servers(self) -> str:
        """`host:port`, as Kafka clients take it."""
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self.running and self._process else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.running

    @property
    def cluster_id(self) -> str:
        """The id of the current (or next) start: each start is a new, empty broker."""
        return self._cluster_id

    def argv(self) -> tuple[str, ...]:
        return broker_argv(
            self.host, self.port, self._binary or tansu_binary(), cluster_id=self._cluster_id
        )

    def start(self) -> None:
        """Start the broker and wait, at most `ready_timeout_seconds`, until it answers.

        Raises `BrokerStartError` if the port is taken, the broker exits, or it does not
        answer in time; nothing is left running then.
        """
        if self.running:
            raise BrokerStartError(f"the broker on {self.bootstrap_servers} is already running")
        if not port_is_free(self.host, self.port):
            raise BrokerStartError(
                f"cannot start the broker on {self.bootstrap_servers}: the port is already in use"
            )
        self._cluster_id = self._fixed_cluster_id or new_cluster_id()
        argv = self.argv()
        self._output = tempfile.TemporaryFile()  # noqa: SIM115 — closed by stop()
        self._process = ChildProcess.start(argv, stdout=self._output)
        try:
            self._wait_until_ready()
            if self._after_start is not None:
                self._after_start(self)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """SIGTERM the broker, SIGKILL it after `stop_timeout_seconds`; a no-op if stopped."""
        process, self._process = self._process, None
        if process is not None:
            process.stop(self._stop_timeout_seconds)
        if self._output is not None:
            self._output.close()
            self._output = None

    def restart(self) -> None:
        """Stop and start again on the same port. The log is empty afterwards: memory only."""
        self.stop()
        self.start()

    def output(self) -> str:
        """What the broker has printed so far (ANSI colours removed)."""
        if self._output is None:
            return ""
        self._output.flush()
        self._output.seek(0)
        return _ANSI_ESCAPE.sub("", self._output.read().decode(errors="replace"))

    def __enter__(self) -> EmbeddedBroker:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"pid {self.pid}" if self.running else "stopped"
        return f"EmbeddedBroker({self.bootstrap_servers}, {state})"

    def _wait_until_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self._ready_timeout_seconds
        while True:
            self._fail_if_exited()
            if self._answers():
                # A broker that lost the race for its port can answer through the winner
                # for a moment before it exits.
                time.sleep(_POLL_INTERVAL_SECONDS)
                self._fail_if_exited()
                return
            if time.monotonic() >= deadline:
                raise BrokerStartError(
                    f"the broker on {self.bootstrap_servers} did not answer within "
                    f"{self._ready_timeout_seconds:g} s{self._last_output()}"
                )
            time.sleep(_POLL_INTERVAL_SECONDS)

    def _answers(self) -> bool:
        try:
            brokers = advertised_brokers(self.host, self.port, _PROBE_TIMEOUT_SECONDS)
        except OSError:
            return False
        return (self.host, self.port) in brokers

    def _fail_if_exited(self) -> None:
        assert self._process is not None
        returncode = self._process.returncode
        if returncode is not None:
            raise BrokerStartError(
                f"the broker on {self.bootstrap_servers} exited with code {returncode} "
                f"before it was ready{self._last_output()}"
            )

    def _last_output(self) -> str:
        shown = self.output().strip()[-_OUTPUT_SHOWN_CHARS:]
        return f"; it printed:\n{shown}" if shown else ""
