"""Where a provider gets the flags from: the gateway's admin API, or memory (tests, demos).

Evaluation never does I/O: a source keeps the last good snapshot in memory and the provider
only reads it. ``GatewayFlagSource`` follows the gateway by polling ``GET /_strangler/flags``
on the gateway's operator listener (http://127.0.0.1:8081 by default; the public entry does
not serve the admin API) with an ``httpx.AsyncClient`` in a background task.

That task runs on an event loop of its own, in a daemon thread. OpenFeature's lifecycle hooks
(``initialize``, ``shutdown``) and its evaluation API are synchronous, and the SDK calls
``initialize`` from a thread of its own; a private loop lets the same source serve a
synchronous worker and an asyncio service alike, without ever competing with the service's
own event loop for time.

An asyncio service that supervises its own background loops follows the gateway with
``GatewayFlagPoller`` instead: the same polling, as a loop (``run(stop)``) on the service's
event loop (the monolith reads the ``mail`` flag so).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Mapping
from types import MappingProxyType
from typing import Protocol

import httpx

from strangler_flags.decision import FlagState, RouteFlag
from strangler_flags.documents import state_from_flags_view

__all__ = [
    "FLAGS_PATH",
    "FlagSource",
    "FlagSourceUnavailable",
    "GatewayFlagPoller",
    "GatewayFlagSource",
    "InMemoryFlagSource",
]

logger = logging.getLogger(__name__)

FLAGS_PATH = "/_strangler/flags"


class FlagSourceUnavailable(Exception):
    """The source has no flags to offer yet: the gateway did not answer in time."""


class FlagSource(Protocol):
    def start(self) -> None:
        """Begin following the flags; return once a first snapshot is in, else raise
        ``FlagSourceUnavailable`` (and keep trying in the background)."""
        ...

    def stop(self) -> None: ...

    def current(self) -> FlagState | None:
        """The last good snapshot, or ``None`` before the first one; never does I/O."""
        ...


class InMemoryFlagSource:
    """Flags held in memory and changed by hand: unit tests and demos without a gateway."""

    def __init__(
        self, flags: Mapping[str, RouteFlag] | None = None, kill_switch: bool = False
    ) -> None:
        self._state = FlagState(MappingProxyType(dict(flags or {})), kill_switch)

    def start(self) -> None:
        return None

    def stop(self) -> None:
        return None

    def current(self) -> FlagState:
        return self._state

    def set_flag(self, name: str, flag: RouteFlag) -> None:
        self._state = FlagState(
            MappingProxyType({**self._state.flags, name: flag}), self._state.kill_switch
        )

    def set_kill_switch(self, on: bool) -> None:
        self._state = FlagState(self._state.flags, on)


class GatewayFlagPoller:
    """Reads ``GET /_strangler/flags`` on each ``poll``; keeps the last good snapshot.

    A failed poll (gateway restarting, network trouble) changes nothing: the last snapshot
    stays, the failure is logged once until the gateway answers again, and the next poll
    tries again. ``run`` polls every ``poll_seconds`` until its stop event is set, so a
    change at the gateway reaches ``current()`` within one poll while the gateway answers.
    """

    def __init__(
        self,
        gateway_url: str,
        admin_token: str,
        *,
        poll_seconds: float = 0.5,
        request_timeout_seconds: float = 2.0,
        actor: str = "openfeature-provider",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.gateway_url = gateway_url.rstrip("/")
        self.poll_seconds = poll_seconds
        self.request_timeout_seconds = request_timeout_seconds
        self._headers = {"Authorization": f"Bearer {admin_token}", "X-Strangler-Actor": actor}
        self._transport = transport
        self._state: FlagState | None = None
        self.last_problem = "no answer yet"

    def current(self) -> FlagState | None:
        return self._state

    def client(self) -> httpx.AsyncClient:
        """The client ``poll`` is given; one per run, closed by its caller."""
        return httpx.AsyncClient(
            base_url=self.gateway_url,
            headers=self._headers,
            timeout=self.request_timeout_seconds,
            transport=self._transport,
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Poll every ``poll_seconds`` until ``stop`` is set; never raises for a failed poll."""
        async with self.client() as client:
            while not stop.is_set():
                await self.poll(client)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.poll_seconds)

    async def poll(self, client: httpx.AsyncClient) -> bool:
        """Read the flags once; whether a snapshot came in."""
        try:
            response = await client.get(FLAGS_PATH)
            response.raise_for_status()
            state = state_from_flags_view(response.json())
        except (httpx.HTTPError, KeyError, TypeError, ValueError) as problem:
            description = f"{type(problem).__name__}: {problem}"
            if description != self.last_problem:
                logger.warning("cannot read flags from %s: %s", self.gateway_url, description)
            self.last_problem = description
            return False
        if self.last_problem and self._state is not None:
            logger.info("reading flags from %s again", self.gateway_url)
        self.last_problem = ""
        self._state = state
        return True


class GatewayFlagSource:
    """The gateway's flags, re-read every ``poll_seconds`` by a ``GatewayFlagPoller`` on a
    private event loop; the last good snapshot is kept."""

    def __init__(
        self,
        gateway_url: str,
        admin_token: str,
        *,
        poll_seconds: float = 0.5,
        startup_timeout_seconds: float = 5.0,
        request_timeout_seconds: float = 2.0,
        actor: str = "openfeature-provider",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._poller = GatewayFlagPoller(
            gateway_url,
            admin_token,
            poll_seconds=poll_seconds,
            request_timeout_seconds=request_timeout_seconds,
            actor=actor,
            transport=transport,
        )
        self._startup_timeout_seconds = startup_timeout_seconds
        self._first_snapshot = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def gateway_url(self) -> str:
        return self._poller.gateway_url

    def current(self) -> FlagState | None:
        return self._poller.current()

    def start(self) -> None:
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(
                target=self._run, name="strangler-flags-poller", daemon=True
            )
            self._thread.start()
        if not self._first_snapshot.wait(self._startup_timeout_seconds):
            raise FlagSourceUnavailable(
                f"no flags from {self.gateway_url}{FLAGS_PATH} within "
                f"{self._startup_timeout_seconds:g} s ({self._poller.last_problem}); still trying"
            )

    def stop(self) -> None:
        self._stopping.set()
        loop, task = self._loop, self._task
        if loop is not None and task is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already closed
                loop.call_soon_threadsafe(task.cancel)
        if self._thread is not None:
            self._thread.join(timeout=self._poller.request_timeout_seconds + 1)
            self._thread = None
        self._loop = self._task = None

    def _run(self) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            asyncio.run(self._follow())

    async def _follow(self) -> None:
        # Published before `_stopping` is read: `stop()` sets `_stopping` before reading
        # these, so either it cancels this task or this task sees it stopping.
        self._loop, self._task = asyncio.get_running_loop(), asyncio.current_task()
        async with self._poller.client() as client:
            while not self._stopping.is_set():
                if await self._poller.poll(client):
                    self._first_snapshot.set()
                await asyncio.sleep(self._poller.poll_seconds)
