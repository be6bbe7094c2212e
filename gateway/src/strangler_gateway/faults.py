"""Why a request was not forwarded, or not answered by its upstream: named conditions.

Each condition is an exception carrying its problem type (slug, title, status) and a detail;
the proxy answers it with one RFC 9457 document. Two families matter to the proxy's choices:

- ``ClientFault``: the client failed to deliver its request (too large, stalled, gone). The
  upstream is not to blame: no breaker failure, no rollback evidence, no fallback.
- ``UpstreamFault``: the upstream could not be reached, did not answer in time, or its circuit
  is open. These may fall back to legacy and count against the new side.

A fault may carry headers its answer needs (``answer_headers``): ``WWW-Authenticate`` on a
401, ``Retry-After`` on a 503 the client should retry.
"""

from __future__ import annotations

from typing import ClassVar

from http_platform.problem_catalogue import (
    CIRCUIT_OPEN,
    CLIENT_CLOSED_REQUEST,
    NO_ROUTE,
    PAYLOAD_TOO_LARGE,
    REQUEST_HEAD_TOO_LARGE,
    REQUEST_TIMEOUT,
    SERVICE_UNAVAILABLE,
    UNAUTHENTICATED,
    UPSTREAM_TIMEOUT,
    UPSTREAM_UNAVAILABLE,
    ProblemType,
)

__all__ = [
    "AuthKeysUnavailable",
    "BodyTooLarge",
    "CircuitOpen",
    "ClientClosedRequest",
    "ClientFault",
    "GatewayFault",
    "HeadersTooLarge",
    "NoRoute",
    "RequestTimeout",
    "Unauthenticated",
    "UpstreamFault",
    "UpstreamTimeout",
    "UpstreamUnreachable",
]


class GatewayFault(Exception):
    """A condition the gateway answers itself, with ``kind``'s problem document."""

    kind: ClassVar[ProblemType]
    answer_headers: ClassVar[tuple[tuple[bytes, bytes], ...]] = ()

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NoRoute(GatewayFault):
    kind = NO_ROUTE


class ClientFault(GatewayFault):
    """The client did not deliver a request the gateway can forward."""


class HeadersTooLarge(ClientFault):
    kind = REQUEST_HEAD_TOO_LARGE


class BodyTooLarge(ClientFault):
    kind = PAYLOAD_TOO_LARGE

    def __init__(self, limit: int) -> None:
        super().__init__(f"Request bodies are limited to {limit} bytes.")


class RequestTimeout(ClientFault):
    kind = REQUEST_TIMEOUT


class ClientClosedRequest(ClientFault):
    kind = CLIENT_CLOSED_REQUEST


class Unauthenticated(ClientFault):
    """The route needs a user and the bearer token is missing or not valid (edge_auth.py)."""

    kind = UNAUTHENTICATED
    answer_headers = ((b"www-authenticate", b"Bearer"),)


class AuthKeysUnavailable(GatewayFault):
    """The auth service's keys could not be fetched to check the token: the client's token may
    well be good, so this is a 503 to retry, never a 401."""

    kind = SERVICE_UNAVAILABLE
    answer_headers = ((b"retry-after", b"10"),)


class UpstreamFault(GatewayFault):
    """The upstream did not give an answer: evidence against it, grounds for a fallback."""


class UpstreamUnreachable(UpstreamFault):
    kind = UPSTREAM_UNAVAILABLE


class UpstreamTimeout(UpstreamFault):
    kind = UPSTREAM_TIMEOUT


class CircuitOpen(UpstreamFault):
    """The call was refused before it was made: the upstream's breaker is open."""

    kind = CIRCUIT_OPEN
