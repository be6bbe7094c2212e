"""The catalogue of problem types: every kind of error answer, named once.

A problem type is a (slug, title, status) triple plus a sentence saying what it means. The
slug becomes the document's ``type`` URI, the title never varies between occurrences (RFC 9457
§3.1.3: what varies goes in ``detail`` or an extension member), and the status is the one
the type is always answered with.

Types live in catalogues. ``PLATFORM`` holds what any HTTP process can answer (limits, the
door guards, the generic statuses FastAPI raises, readiness, what a proxy answers for its
upstream); a deployable defines its business types (``duplicate-email``,
``refund-rejected``) in a catalogue of its own with :meth:`ProblemCatalogue.define`. Every
catalogue registers itself, so :func:`every_problem_type` lists what the whole system can
emit, and a slug defined twice with a different title or status fails at import — the
monolith and a service extracted from it must refuse the same condition the same way, and
they do so by defining it identically.

This module imports nothing but the standard library.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

__all__ = [
    "BAD_GATEWAY",
    "BAD_REQUEST",
    "CIRCUIT_OPEN",
    "CLIENT_CLOSED_REQUEST",
    "CONFLICT",
    "FORBIDDEN",
    "GATEWAY_TIMEOUT",
    "IDEMPOTENCY_KEY_INVALID",
    "IDEMPOTENCY_KEY_TOO_LONG",
    "INTERNAL_ERROR",
    "MALFORMED_JSON",
    "METHOD_NOT_ALLOWED",
    "NOT_ACCEPTABLE",
    "NOT_FOUND",
    "NOT_READY",
    "NO_ROUTE",
    "NUL_CHARACTER",
    "OPERATOR_TOKEN_REQUIRED",
    "OPERATOR_TOKEN_WRONG",
    "PAYLOAD_TOO_LARGE",
    "PLATFORM",
    "PROBLEM_TYPE_BASE",
    "REQUEST_HEAD_TOO_LARGE",
    "REQUEST_TIMEOUT",
    "SERVICE_UNAVAILABLE",
    "TOO_MANY_REQUESTS",
    "UNAUTHENTICATED",
    "UNSUPPORTED_MEDIA_TYPE",
    "UPSTREAM_TIMEOUT",
    "UPSTREAM_UNAVAILABLE",
    "VALIDATION_FAILED",
    "ProblemCatalogue",
    "ProblemType",
    "every_catalogue",
    "every_problem_type",
    "problem_type",
    "type_for_status",
]

PROBLEM_TYPE_BASE = "https://strangler-fig.dev/problems/"


def problem_type(slug: str) -> str:
    """The ``type`` URI for a problem named by its slug, e.g. ``duplicate-email``."""
    return PROBLEM_TYPE_BASE + slug


@dataclass(frozen=True, slots=True)
class ProblemType:
    """One kind of error answer: ``ProblemType("payload-too-large", "Payload too large", 413)``."""

    slug: str
    title: str
    status: int
    meaning: str = ""

    @property
    def uri(self) -> str:
        return problem_type(self.slug)


_CATALOGUES: list[ProblemCatalogue] = []
_BY_SLUG: dict[str, ProblemType] = {}


class ProblemCatalogue:
    """The problem types one component can answer with, registered for the whole system."""

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self._types: dict[str, ProblemType] = {}
        _CATALOGUES.append(self)

    def define(self, slug: str, title: str, status: int, meaning: str) -> ProblemType:
        """Add a type; the same slug anywhere else must carry the same title and status."""
        defined = ProblemType(slug, title, status, meaning)
        known = _BY_SLUG.get(slug)
        if known is not None and (known.title, known.status) != (title, status):
            raise ValueError(
                f"problem type {slug!r} is already defined as ({known.title!r}, "
                f"{known.status}); {self.owner} defines it as ({title!r}, {status})"
            )
        _BY_SLUG.setdefault(slug, defined)
        self._types[slug] = defined
        return defined

    def __iter__(self) -> Iterator[ProblemType]:
        return iter(self._types.values())

    def __contains__(self, slug: object) -> bool:
        return slug in self._types


def every_catalogue() -> list[ProblemCatalogue]:
    """Every catalogue imported so far (import a component's catalogue module to include it)."""
    return list(_CATALOGUES)


def every_problem_type() -> dict[str, ProblemType]:
    """Every problem type of every imported catalogue, by slug."""
    return dict(_BY_SLUG)


PLATFORM = ProblemCatalogue("http-platform")

BAD_REQUEST = PLATFORM.define(
    "bad-request", "Bad request", 400, "The request is malformed in a way no other type names."
)
MALFORMED_JSON = PLATFORM.define(
    "malformed-json", "Malformed JSON body", 400, "The request body is not valid JSON."
)
NUL_CHARACTER = PLATFORM.define(
    "nul-character",
    "NUL character not allowed",
    400,
    "The path, query or body carries U+0000, which no database text column can hold.",
)
IDEMPOTENCY_KEY_TOO_LONG = PLATFORM.define(
    "idempotency-key-too-long",
    "Idempotency-Key too long",
    400,
    "The Idempotency-Key header is longer than the API allows (200 characters).",
)
IDEMPOTENCY_KEY_INVALID = PLATFORM.define(
    "idempotency-key-invalid",
    "Idempotency-Key invalid",
    400,
    "The Idempotency-Key header holds something other than visible ASCII characters.",
)
UNAUTHENTICATED = PLATFORM.define(
    "unauthenticated",
    "Authentication required",
    401,
    "The request needs a valid bearer access token and has none, or an invalid one.",
)
OPERATOR_TOKEN_REQUIRED = PLATFORM.define(
    "operator-token-required",
    "Operator credential required",
    401,
    "An /internal endpoint was called without 'Authorization: Bearer <operator token>'.",
)
OPERATOR_TOKEN_WRONG = PLATFORM.define(
    "operator-token-wrong",
    "Operator credential refused",
    403,
    "An /internal endpoint was called with a bearer token that is not the operator token.",
)
FORBIDDEN = PLATFORM.define(
    "forbidden", "Forbidden", 403, "The caller is known but may not do this."
)
NOT_FOUND = PLATFORM.define(
    "not-found", "Not found", 404, "No resource at this URL, or no resource with this id."
)
METHOD_NOT_ALLOWED = PLATFORM.define(
    "method-not-allowed", "Method not allowed", 405, "The URL exists but not with this method."
)
NOT_ACCEPTABLE = PLATFORM.define(
    "not-acceptable", "Not acceptable", 406, "No representation matches the Accept header."
)
REQUEST_TIMEOUT = PLATFORM.define(
    "request-timeout",
    "Request timeout",
    408,
    "The client declared a body and stopped sending it; the wait for it is bounded.",
)
CONFLICT = PLATFORM.define(
    "conflict", "Conflict", 409, "The request conflicts with the current state."
)
PAYLOAD_TOO_LARGE = PLATFORM.define(
    "payload-too-large",
    "Payload too large",
    413,
    "The request body is over the process's limit (``max_bytes`` says which).",
)
UNSUPPORTED_MEDIA_TYPE = PLATFORM.define(
    "unsupported-media-type",
    "Unsupported media type",
    415,
    "The body's Content-Type is not one this endpoint reads.",
)
VALIDATION_FAILED = PLATFORM.define(
    "validation-failed",
    "Request validation failed",
    422,
    "A field is missing or invalid; ``errors`` lists each with a JSON pointer.",
)
TOO_MANY_REQUESTS = PLATFORM.define(
    "too-many-requests", "Too many requests", 429, "A rate limit was reached; see Retry-After."
)
REQUEST_HEAD_TOO_LARGE = PLATFORM.define(
    "request-head-too-large",
    "Request header fields too large",
    431,
    "The request line and headers are over the process's limit; nothing of it was forwarded.",
)
CLIENT_CLOSED_REQUEST = PLATFORM.define(
    "client-closed-request",
    "Client closed request",
    499,
    "The client went away while sending its body (recorded; the client never reads it).",
)
INTERNAL_ERROR = PLATFORM.define(
    "internal-error",
    "Internal server error",
    500,
    "An unexpected failure; it is logged with the request, never described to the client.",
)
BAD_GATEWAY = PLATFORM.define(
    "bad-gateway", "Bad gateway", 502, "An upstream answered with something unusable."
)
UPSTREAM_UNAVAILABLE = PLATFORM.define(
    "upstream-unavailable",
    "Upstream unavailable",
    502,
    "A proxy could not reach the upstream that serves this route.",
)
SERVICE_UNAVAILABLE = PLATFORM.define(
    "service-unavailable",
    "Service unavailable",
    503,
    "The process cannot serve this now; retry after Retry-After.",
)
NOT_READY = PLATFORM.define(
    "not-ready",
    "Not ready",
    503,
    "GET /health/ready: a dependency check failed or a background loop is down; ``checks`` "
    "and ``loops`` name which.",
)
CIRCUIT_OPEN = PLATFORM.define(
    "circuit-open",
    "Upstream circuit open",
    503,
    "A proxy's upstream failed repeatedly; calls to it are paused for a moment.",
)
GATEWAY_TIMEOUT = PLATFORM.define(
    "gateway-timeout", "Gateway timeout", 504, "An upstream did not answer in time."
)
UPSTREAM_TIMEOUT = PLATFORM.define(
    "upstream-timeout",
    "Upstream timed out",
    504,
    "A proxy's upstream did not answer this route in time.",
)
NO_ROUTE = PLATFORM.define(
    "no-route", "No route", 404, "The gateway's route table has no route for this path."
)

_BY_STATUS = {
    defined.status: defined
    for defined in (
        BAD_REQUEST,
        UNAUTHENTICATED,
        FORBIDDEN,
        NOT_FOUND,
        METHOD_NOT_ALLOWED,
        NOT_ACCEPTABLE,
        REQUEST_TIMEOUT,
        CONFLICT,
        PAYLOAD_TOO_LARGE,
        UNSUPPORTED_MEDIA_TYPE,
        VALIDATION_FAILED,
        TOO_MANY_REQUESTS,
        REQUEST_HEAD_TOO_LARGE,
        INTERNAL_ERROR,
        BAD_GATEWAY,
        SERVICE_UNAVAILABLE,
        GATEWAY_TIMEOUT,
    )
}


def type_for_status(status: int) -> ProblemType | None:
    """The generic type for a bare status (an ``HTTPException`` raised without a problem);
    ``None`` for a status no catalogue names — the document is then ``about:blank``."""
    return _BY_STATUS.get(status)
