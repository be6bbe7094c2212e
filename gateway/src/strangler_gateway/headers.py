"""Headers on the way through: what is forwarded, what is dropped, what the gateway adds.

Names are compared in lower case: ASGI servers give request header names lower-cased, and
the upstream client's raw response headers are lowered here before they are compared.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from starlette.types import Scope
from strangler_flags import Decision

from strangler_gateway.identity import COOKIE_NAME

__all__ = [
    "GATEWAY_OWN_REQUEST_HEADERS",
    "VERIFIED_USER_HEADER",
    "Headers",
    "has_body",
    "outgoing_headers",
    "response_headers",
    "session_cookie",
    "strangler_headers",
]

Headers = list[tuple[bytes, bytes]]

VERIFIED_USER_HEADER = b"x-strangler-verified-user"
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"trailers",
        b"transfer-encoding",
        b"upgrade",
    }
)
# Written by the gateway itself, or meant for it only: a client's copy never reaches an
# upstream (``x-strangler-target`` and its token are the gateway's targeting, see targeting.py;
# ``x-strangler-verified-user`` is written only from a token the gateway verified, edge_auth.py).
GATEWAY_OWN_REQUEST_HEADERS = frozenset(
    {
        b"host",
        b"x-request-id",
        b"x-forwarded-for",
        b"x-forwarded-proto",
        b"x-forwarded-host",
        b"x-strangler-target",
        b"x-strangler-targeting-token",
        b"x-strangler-shadow",
        VERIFIED_USER_HEADER,
    }
)
# The server in front of the proxy (uvicorn) writes its own ``Date`` and ``Server``, as nginx
# does; forwarding the upstream's too would send each twice.
GATEWAY_OWN_RESPONSE_HEADERS = frozenset(
    {
        b"x-strangler-route",
        b"x-strangler-target",
        b"x-strangler-reason",
        b"x-request-id",
        b"date",
        b"server",
    }
)
COOKIE_MAX_AGE_SECONDS = 365 * 24 * 3600
_DROPPED_REQUEST_HEADERS = HOP_BY_HOP | GATEWAY_OWN_REQUEST_HEADERS
_DROPPED_RESPONSE_HEADERS = HOP_BY_HOP | GATEWAY_OWN_RESPONSE_HEADERS


def has_body(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    for key, value in headers:
        lowered = key.lower()
        if lowered == b"transfer-encoding":
            return True
        if lowered == b"content-length":
            return value.strip() not in (b"", b"0")
    return False


def _end_to_end(
    headers: Iterable[tuple[bytes, bytes]],
    dropped: frozenset[bytes],
    own: dict[bytes, bytes] | None = None,
) -> Headers:
    """Without ``dropped`` (hop-by-hop headers and more) and the names ``Connection`` lists
    (RFC 9110 §7.6.1); the first value of each dropped one goes into ``own`` when given.
    One pass: it runs twice for every proxied request."""
    kept: Headers = []
    listed: set[bytes] | None = None
    for key, value in headers:
        key = key.lower()
        if key in dropped:
            if key == b"connection":
                tokens = {token.strip() for token in value.lower().split(b",")}
                listed = tokens if listed is None else listed | tokens
            if own is not None:
                own.setdefault(key, value)
            continue
        kept.append((key, value))
    if listed:
        return [pair for pair in kept if pair[0] not in listed]
    return kept


_SCHEMES = {"http": b"http", "https": b"https"}


def outgoing_headers(scope: Scope, request_id: str) -> Headers:
    """The client's end-to-end headers plus the gateway's ``X-Forwarded-*`` and request id."""
    own: dict[bytes, bytes] = {}
    headers = _end_to_end(scope["headers"], _DROPPED_REQUEST_HEADERS, own)
    client = scope.get("client")
    client_host = client[0].encode("latin-1") if client else b"unknown"
    prior = own.get(b"x-forwarded-for")
    scheme = scope.get("scheme", "http")
    headers += [
        (b"x-forwarded-for", prior + b", " + client_host if prior else client_host),
        (b"x-forwarded-proto", _SCHEMES.get(scheme) or str(scheme).encode("latin-1")),
        (b"x-request-id", request_id.encode("latin-1")),
    ]
    host = own.get(b"host")
    if host:
        headers.append((b"x-forwarded-host", host))
    return headers


def response_headers(raw: Iterable[tuple[bytes, bytes]]) -> Headers:
    """The upstream's end-to-end headers, less those the gateway writes itself."""
    return _end_to_end(raw, _DROPPED_RESPONSE_HEADERS)


def strangler_headers(route: str, decision: Decision, target: str | None = None) -> Headers:
    """Which route and side served the answer, and why (``X-Strangler-*``)."""
    return list(_strangler_headers(route, target or decision.target.value, decision.reason))


@functools.lru_cache(maxsize=1024)
def _strangler_headers(route: str, target: str, reason: str) -> tuple[tuple[bytes, bytes], ...]:
    """Encoded once per route, side and reason: a handful of each, the same on every answer."""
    return (
        (b"x-strangler-route", route.encode()),
        (b"x-strangler-target", target.encode()),
        (b"x-strangler-reason", reason.encode()),
    )


def session_cookie(uid: str) -> bytes:
    """The ``Set-Cookie`` value giving an anonymous caller its sticky routing key."""
    return (
        f"{COOKIE_NAME}={uid}; Path=/; Max-Age={COOKIE_MAX_AGE_SECONDS}; HttpOnly; SameSite=Lax"
    ).encode()
