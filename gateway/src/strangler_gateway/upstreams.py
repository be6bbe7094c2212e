"""The upstreams: one pool of keep-alive connections each, behind a circuit breaker that heals.

The client is the gateway's own (upstream_client.py): aiohttp's cost more than half of the
gateway's CPU per proxied request (httpx's more still: ~0.1 times nginx's throughput where
aiohttp reached ~0.9). One pool per upstream is created when the app starts and closed when
it stops, so connections are reused across requests.

Each pool holds at most ``connections_per_upstream`` connections (a request beyond them waits
for a free one, as long as it would wait for an answer), so what the gateway holds open — and
each upstream accepts from it — has a ceiling however bursty the traffic. Idle ones are closed
after ``keepalive_seconds``: before the upstream's own idle timeout, so a request is not sent on
a connection the upstream is closing at that moment. The pool hands out its newest idle
connection first, so after a burst the connections a steady trickle does not need expire.

What the breaker counts as the upstream being down: a connection that cannot be made or
breaks, no answer in time, and a 502/503/504 that is not a problem document (what a dead
process behind a load balancer looks like). A 5xx the application chose to answer — a problem
document such as a provider timeout reported as 504, or a 500 for one request — says the
upstream is up and is counted as such.

While a breaker is open, the pool probes the upstream's health endpoint in the background
every ``probe_interval`` seconds, so the circuit closes soon after the upstream recovers
even when no traffic tries it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from typing import NamedTuple

from strangler_gateway.breaker import BreakerState, CircuitBreaker
from strangler_gateway.faults import CircuitOpen, UpstreamTimeout, UpstreamUnreachable
from strangler_gateway.headers import Headers
from strangler_gateway.request_body import RequestBody
from strangler_gateway.upstream_client import Upstream, UpstreamBroke, UpstreamResponse

__all__ = ["OutgoingRequest", "UpstreamPool", "looks_down"]

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
_DOWN_STATUSES = frozenset({502, 503, 504})


class OutgoingRequest(NamedTuple):
    method: str
    target: str
    """Path and query, byte for byte as the client sent them (Latin-1)."""
    headers: Headers
    has_body: bool


def looks_down(response: UpstreamResponse) -> bool:
    """A gateway-ish 5xx without a problem document: nobody in the application answered."""
    if response.status not in _DOWN_STATUSES:
        return False
    return not response.headers.get("content-type", "").startswith(PROBLEM_CONTENT_TYPE)


class UpstreamPool:
    """One connection pool (``Upstream``) and one breaker per upstream base URL.

    Nothing keeps cookies (an upstream's ``Set-Cookie`` belongs to the end user, not to the
    gateway), decompresses (bodies pass through byte for byte) or follows redirects.
    """

    def __init__(
        self,
        upstreams: Iterable[str],
        *,
        connect_timeout: float,
        read_timeout: float,
        connections_per_upstream: int = 32,
        keepalive_seconds: float = 4.0,
        breaker: Callable[[], CircuitBreaker] = CircuitBreaker,
        probe_path: str = "/health/live",
        probe_interval: float = 1.0,
    ) -> None:
        self._urls = sorted(set(upstreams))
        self._breakers = {url: breaker() for url in self._urls}
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._connections = connections_per_upstream
        self._keepalive_seconds = keepalive_seconds
        self._probe_path = probe_path
        self._probe_interval = probe_interval
        self._sessions: dict[str, Upstream] = {}
        self._probes: dict[str, asyncio.Task[None]] = {}

    async def start(self) -> None:
        for url in self._urls:
            self._sessions[url] = Upstream(
                url,
                limit=self._connections,
                connect_timeout=self._connect_timeout,
                read_timeout=self._read_timeout,
                # waiting for a free connection: as long as it would wait for an answer
                wait_timeout=self._read_timeout,
                keepalive_seconds=self._keepalive_seconds,
            )

    async def close(self) -> None:
        probes, self._probes = self._probes, {}
        for probe in probes.values():
            probe.cancel()
        for probe in probes.values():
            with contextlib.suppress(asyncio.CancelledError):
                await probe
        sessions, self._sessions = self._sessions, {}
        for session in sessions.values():
            await session.close()

    def session(self, url: str) -> Upstream:
        return self._sessions[url]

    def breaker(self, url: str) -> CircuitBreaker:
        return self._breakers[url]

    async def call(
        self,
        upstream: str,
        request: OutgoingRequest,
        body: RequestBody,
        *,
        guarded: bool,
        label: str,
    ) -> UpstreamResponse:
        """Send the request; the answer's headers are in, its body still to be read.

        ``guarded``: the breaker may refuse the call (``CircuitOpen``) — only for a side that
        has somewhere else to send the request, so a breaker never cuts a route off alone.
        A client's fault while its body streams is raised as itself, with no verdict.
        ``label`` names the upstream in problem details (never by its address).
        """
        breaker = self._breakers[upstream]
        if guarded and not breaker.allow():
            raise CircuitOpen(f"{label} failed repeatedly; calls to it are paused for a moment.")
        try:
            response = await self._sessions[upstream].request(
                request.method,
                request.target,  # byte for byte, without normalising ``..``
                request.headers,
                body.chunks() if request.has_body else None,
            )
        except BaseException as exc:
            raise self._judged_failure(upstream, label, body, exc) from exc
        if looks_down(response):
            self._failed(upstream)
        else:
            breaker.succeeded()
        return response

    def _judged_failure(
        self, upstream: str, label: str, body: RequestBody, exc: BaseException
    ) -> BaseException:
        """What to raise for a call that ended without an answer, and the breaker's verdict."""
        if body.client_fault is not None:
            self._breakers[upstream].abandoned()
            return body.client_fault
        if isinstance(exc, TimeoutError):
            self._failed(upstream)
            return UpstreamTimeout(f"{label} did not answer in time.")
        if isinstance(exc, (UpstreamBroke, OSError)):
            self._failed(upstream)
            return UpstreamUnreachable(f"{label} could not be reached.")
        self._breakers[upstream].abandoned()
        return exc

    def _failed(self, upstream: str) -> None:
        breaker = self._breakers[upstream]
        breaker.failed()
        if breaker.state is not BreakerState.CLOSED and upstream not in self._probes:
            probe = asyncio.create_task(self._probe_until_closed(upstream))
            self._probes[upstream] = probe
            probe.add_done_callback(lambda _: self._probes.pop(upstream, None))

    async def _probe_until_closed(self, upstream: str) -> None:
        """Half-open checks on the pool's own: close the circuit once health answers 200."""
        breaker = self._breakers[upstream]
        timeout = max(self._probe_interval, 0.5)
        while breaker.state is not BreakerState.CLOSED:
            await asyncio.sleep(self._probe_interval)
            with contextlib.suppress(UpstreamBroke, OSError, TimeoutError):
                async with asyncio.timeout(timeout):
                    answer = await self._sessions[upstream].request("GET", self._probe_path, [])
                    async with answer:
                        await answer.read()
                        if answer.status == 200:
                            logger.info("%s answers its health check: circuit closed", upstream)
                            breaker.succeeded()
