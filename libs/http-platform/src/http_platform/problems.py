"""RFC 9457 problem details: one exception type, one set of handlers, used by every app.

Every 4xx/5xx leaving a Strangler Fig process is an ``application/problem+json`` document.
Handlers never echo a stack trace: unexpected errors are logged and answered with a bare 500.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

__all__ = [
    "PROBLEM_CONTENT_TYPE",
    "PROBLEM_TYPE_BASE",
    "Problem",
    "ProblemResponse",
    "install_problem_handlers",
    "problem_type",
]

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://strangler-fig.dev/problems/"

logger = logging.getLogger(__name__)


def problem_type(slug: str) -> str:
    """The ``type`` URI for a problem named by its slug, e.g. ``duplicate-email``."""
    return PROBLEM_TYPE_BASE + slug


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_CONTENT_TYPE


class Problem(Exception):
    """Raise anywhere in request handling to answer with a problem document.

    ``slug`` names the condition (it becomes the ``type`` URI); ``extensions`` are extra
    members such as ``errors`` or ``invoice_id``.
    """

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.headers = dict(headers or {})
        self.extensions = extensions

    def to_document(self, instance: str | None = None) -> dict[str, Any]:
        document: dict[str, Any] = {
            "type": problem_type(self.slug),
            "title": self.title,
            "status": self.status,
        }
        if self.detail is not None:
            document["detail"] = self.detail
        if instance is not None:
            document["instance"] = instance
        document.update(self.extensions)
        return document

    def to_response(self, instance: str | None = None) -> ProblemResponse:
        return ProblemResponse(
            self.to_document(instance), status_code=self.status, headers=self.headers
        )


_SLUG_BY_STATUS = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-failed",
    429: "too-many-requests",
    500: "internal-error",
    502: "bad-gateway",
    503: "service-unavailable",
    504: "gateway-timeout",
}


def _status_slug(status: int) -> str:
    return _SLUG_BY_STATUS.get(status, f"http-{status}")


def _status_title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def _field_pointer(location: tuple[Any, ...] | list[Any]) -> str:
    """JSON pointer-ish name for a validation error location, without the ``body`` prefix."""
    parts = [str(part) for part in location]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        source, rest = parts[0], parts[1:]
        return f"{source}:/" + "/".join(rest) if source != "body" else "/" + "/".join(rest)
    return "/" + "/".join(parts)


def _validation_problem(exc: RequestValidationError) -> Problem:
    errors = list(exc.errors())
    if any(error.get("type") == "json_invalid" for error in errors):
        detail = next(
            (str(e.get("ctx", {}).get("error", "")) for e in errors if e["type"] == "json_invalid"),
            "",
        )
        return Problem(
            400,
            "malformed-json",
            "Malformed JSON body",
            f"The request body is not valid JSON: {detail}".rstrip(": "),
        )
    return Problem(
        422,
        "validation-failed",
        "Request validation failed",
        "; ".join(f"{_field_pointer(e['loc'])}: {e['msg']}" for e in errors),
        errors=[
            {"pointer": _field_pointer(e["loc"]), "message": e["msg"], "code": e["type"]}
            for e in errors
        ],
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Map every error an app can produce to a problem document, once, for the whole app."""

    async def on_problem(request: Request, exc: Exception) -> ProblemResponse:
        assert isinstance(exc, Problem)
        return exc.to_response(request.url.path)

    async def on_http_exception(request: Request, exc: Exception) -> ProblemResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail: str | None = exc.detail if isinstance(exc.detail, str) else None
        if detail == _status_title(exc.status_code):
            detail = None
        problem = Problem(
            exc.status_code,
            _status_slug(exc.status_code),
            _status_title(exc.status_code),
            detail,
            headers=exc.headers,
        )
        return problem.to_response(request.url.path)

    async def on_validation_error(request: Request, exc: Exception) -> ProblemResponse:
        assert isinstance(exc, RequestValidationError)
        return _validation_problem(exc).to_response(request.url.path)

    async def on_unexpected(request: Request, exc: Exception) -> ProblemResponse:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        problem = Problem(
            500, "internal-error", "Internal Server Error", "The server failed unexpectedly."
        )
        return problem.to_response(request.url.path)

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(StarletteHTTPException, on_http_exception)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(Exception, on_unexpected)
