"""Forwarding one routed request: to the decided side, to legacy when new fails, back out.

The steps, each a method below: plan what the request may do (fall back? mirror?), start the
shadow mirror, get an answer (``_answer``: the decided side, then legacy if allowed), and
stream it back with the gateway's headers. What cannot be answered ends in a problem document
naming the route and the side that was tried.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.types import Message, Receive, Scope, Send
from strangler_flags import Decision, Target

from strangler_gateway.auto_rollback import AutoRollback
from strangler_gateway.faults import CircuitOpen, GatewayFault, UpstreamFault
from strangler_gateway.headers import (
    VERIFIED_USER_HEADER,
    Headers,
    has_body,
    outgoing_headers,
    response_headers,
    strangler_headers,
)
from strangler_gateway.locations import PublicLocations
from strangler_gateway.metrics import FALLBACKS
from strangler_gateway.request_body import RequestBody
from strangler_gateway.responding import send_fault, stream_answer
from strangler_gateway.routes import Route
from strangler_gateway.shadow import Capture, Shadow
from strangler_gateway.upstream_client import UpstreamResponse
from strangler_gateway.upstreams import OutgoingRequest, UpstreamPool

__all__ = ["IDEMPOTENT_METHODS", "SAFE_METHODS", "Forwarder", "Served"]

_SHADOW_HEADER = (b"x-strangler-shadow", b"1")
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class Served:
    """Which side answered, with which status: what the request counts as in ``/metrics``."""

    target: Target
    status: int


class _Unanswered(Exception):
    """No side gave an answer; ``decision`` is where the request ended up."""

    def __init__(self, fault: GatewayFault, decision: Decision) -> None:
        super().__init__(fault.detail)
        self.fault = fault
        self.decision = decision


@dataclass(frozen=True, slots=True)
class _Plan:
    may_fall_back: bool
    """An idempotent request the flags sent to new: legacy may answer it instead."""
    mirror_read: bool
    """Shadow: a safe request without a body is mirrored to new while legacy answers."""
    mirror_write: bool
    """Shadow with ``mirror_writes``: a write is sent to new after legacy answered it."""


class _Mirrors:
    """The shadow calls of one request: to new, and on a sample to legacy again (noise)."""

    def __init__(self) -> None:
        self.new: asyncio.Future[Capture] | None = None
        self.legacy_again: asyncio.Future[Capture] | None = None

    def cancel(self) -> None:
        for pending in (self.new, self.legacy_again):
            if pending is not None:
                pending.cancel()


class Forwarder:
    def __init__(
        self,
        pool: UpstreamPool,
        shadow: Shadow,
        rollback: AutoRollback,
        locations: PublicLocations,
        *,
        max_body_bytes: int,
        client_body_timeout: float,
    ) -> None:
        self._pool = pool
        self._shadow = shadow
        self._rollback = rollback
        self._locations = locations
        self._max_body_bytes = max_body_bytes
        self._client_body_timeout = client_body_timeout

    async def forward(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        route: Route,
        decision: Decision,
        request_id: str,
        extra: Headers,
        verified_user: str | None = None,
    ) -> Served:
        """Answer the request from the decided side (or legacy); ``extra`` goes on the answer,
        ``verified_user`` (a subject the gateway verified) to the upstream."""
        request = _outgoing(scope, request_id, verified_user)
        plan = _plan(route, decision, request)
        body = (
            RequestBody(
                receive, self._max_body_bytes, keep=plan.may_fall_back or plan.mirror_write,
                idle_timeout=self._client_body_timeout,
            )
            if request.has_body
            else _NO_BODY
        )  # fmt: skip
        mirrors = self._start_mirrors(route, request, plan)
        try:
            response, decision = await self._answer(route, decision, request, body, plan)
        except _Unanswered as unanswered:
            mirrors.cancel()
            fault = unanswered.fault
            headers = strangler_headers(route.name, unanswered.decision) + extra
            await send_fault(send, fault, instance=scope["path"], headers=headers, route=route.name)
            return Served(unanswered.decision.target, fault.kind.status)
        comparing = mirrors.new is not None or plan.mirror_write
        capture = Capture(response.status) if comparing else None
        try:
            headers = self._locations.rewrite(response_headers(response.raw_headers))
            headers += strangler_headers(route.name, decision) + extra
            if capture is not None:
                capture.headers = dict(response.headers)
            complete = await stream_answer(send, response, headers, capture)
        finally:
            response.release()
        self._finish_mirrors(route, request, plan, body, mirrors, capture if complete else None)
        return Served(decision.target, response.status if complete else 502)

    async def _answer(
        self,
        route: Route,
        decision: Decision,
        request: OutgoingRequest,
        body: RequestBody,
        plan: _Plan,
    ) -> tuple[UpstreamResponse, Decision]:
        """The decided side's answer, or legacy's when new failed and the plan allows it."""
        try:
            response = await self._attempt(route, decision.target, request, body)
        except UpstreamFault as fault:
            if not plan.may_fall_back:
                raise _Unanswered(fault, decision) from fault
            cause = "circuit-open" if isinstance(fault, CircuitOpen) else "upstream-error"
        except GatewayFault as fault:
            raise _Unanswered(fault, decision) from fault
        else:
            if not (plan.may_fall_back and response.status >= 500):
                return response, decision
            response.release()
            cause = "upstream-5xx"
        FALLBACKS.labels(route.name, cause).inc()
        fallback = Decision(Target.LEGACY, f"fallback:{cause}")
        try:
            return await self._attempt(route, Target.LEGACY, request, body), fallback
        except GatewayFault as fault:
            raise _Unanswered(fault, fallback) from fault

    async def _attempt(
        self, route: Route, side: Target, request: OutgoingRequest, body: RequestBody
    ) -> UpstreamResponse:
        """One call to one side. A call to new is evidence for the rollback and may be refused
        by new's breaker — unless the route was born new: then there is nowhere else to go."""
        label = _label(route.name, side)
        if side is Target.LEGACY:
            return await self._pool.call(route.legacy, request, body, guarded=False, label=label)
        guarded = not route.born_new
        began = time.perf_counter()
        try:
            response = await self._pool.call(
                route.new_upstream, request, body, guarded=guarded, label=label
            )
        except UpstreamFault:
            self._rollback.record(route, False, time.perf_counter() - began)
            raise
        self._rollback.record(route, response.status < 500, time.perf_counter() - began)
        return response

    def _start_mirrors(self, route: Route, request: OutgoingRequest, plan: _Plan) -> _Mirrors:
        if not plan.mirror_read:
            return _NO_MIRRORS
        mirrors = _Mirrors()
        mirrors.new = self._shadow.start(route.name, self._mirror_call(route.new_upstream, request))
        if mirrors.new is not None:
            mirrors.legacy_again = self._shadow.sample_noise(
                route.name, route.shadow, self._mirror_call(route.legacy, request)
            )
        return mirrors

    def _finish_mirrors(
        self,
        route: Route,
        request: OutgoingRequest,
        plan: _Plan,
        body: RequestBody,
        mirrors: _Mirrors,
        legacy_answer: Capture | None,
    ) -> None:
        """Compare legacy's complete answer with new's; a write is mirrored only now."""
        if mirrors is _NO_MIRRORS and not plan.mirror_write:
            return  # most requests: nothing was mirrored, nothing is to be
        if legacy_answer is None:
            mirrors.cancel()
            return
        new = mirrors.new
        if plan.mirror_write:  # (``mirrors`` may be the shared _NO_MIRRORS: left as it is)
            sent = body.replayable()
            new = self._shadow.start(
                route.name, self._mirror_call(route.new_upstream, request, sent)
            )
        if new is not None:
            self._shadow.compare_later(
                route.name, route.shadow, (request.method, request.target), legacy_answer,
                new, mirrors.legacy_again,
            )  # fmt: skip

    def _mirror_call(
        self, upstream: str, request: OutgoingRequest, body: bytes | None = None
    ) -> Callable[[], Awaitable[Capture]]:
        """A background copy of the request; ``X-Strangler-Shadow: 1`` tells the upstream."""

        async def call() -> Capture:
            response = await self._pool.session(upstream).request(
                request.method, request.target, [*request.headers, _SHADOW_HEADER], body
            )
            async with response:
                capture = Capture(response.status, dict(response.headers))
                async for chunk in response.iter_chunks():
                    capture.add(chunk)
                return capture

        return call


@functools.lru_cache(maxsize=256)
def _label(route: str, side: Target) -> str:
    """How problem details name an upstream (never by its address); made once per route."""
    return f"The {side.value} upstream of route {route!r}"


_ONLY_FORWARD = _Plan(may_fall_back=False, mirror_read=False, mirror_write=False)
_NO_MIRRORS = _Mirrors()  # never set: a plan without a mirror shares this one


async def _never_read() -> Message:
    raise RuntimeError("the body of a request without one is never read")


# Shared by every request without a body (most): nothing reads it, nothing is kept in it.
_NO_BODY = RequestBody(_never_read, 0, keep=False)


def _plan(route: Route, decision: Decision, request: OutgoingRequest) -> _Plan:
    method = request.method
    shadowing = decision.reason == "flag:shadow"
    if decision.target is Target.LEGACY and not shadowing:
        return _ONLY_FORWARD  # most requests: nothing to fall back to, nothing to mirror
    return _Plan(
        may_fall_back=(
            decision.target is Target.NEW
            and not route.born_new
            and decision.reason != "targeting:header"
            and method in IDEMPOTENT_METHODS
        ),
        mirror_read=shadowing and method in SAFE_METHODS and not request.has_body,
        mirror_write=shadowing and route.shadow.mirror_writes and method not in SAFE_METHODS,
    )


def _outgoing(scope: Scope, request_id: str, verified_user: str | None) -> OutgoingRequest:
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
    query: bytes = scope.get("query_string", b"")
    target = (raw_path + (b"?" + query if query else b"")).decode("latin-1")
    headers = outgoing_headers(scope, request_id)
    if verified_user is not None:
        headers.append((VERIFIED_USER_HEADER, verified_user.encode("latin-1")))
    return OutgoingRequest(scope["method"], target, headers, has_body(scope["headers"]))
