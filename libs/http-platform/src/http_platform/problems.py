"""RFC 9457 problem details in a FastAPI app: one set of handlers, installed once per app.

Every 4xx/5xx leaving a Strangler Fig process is an ``application/problem+json`` document
written by ``problem_writer`` from a type of the catalogue (``problem_catalogue``). Handlers
never echo a stack trace: unexpected errors are logged and answered with a bare 500.
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

from http_platform.problem_catalogue import (
    INTERNAL_ERROR,
    MALFORMED_JSON,
    PROBLEM_TYPE_BASE,
    SERVICE_UNAVAILABLE,
    VALIDATION_FAILED,
    ProblemType,
    problem_type,
    type_for_status,
)
from http_platform.problem_writer import PROBLEM_CONTENT_TYPE, Problem

__all__ = [
    "PROBLEM_CONTENT_TYPE",
    "PROBLEM_TYPE_BASE",
    "Problem",
    "ProblemResponse",
    "install_problem_handlers",
    "problem_type",
]

logger = logging.getLogger(__name__)


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_CONTENT_TYPE


def _status_problem(status: int, detail: str | None, headers: Mapping[str, str] | None) -> Problem:
    kind = type_for_status(status)
    if kind is None:
        try:
            title = HTTPStatus(status).phrase
        except ValueError:
            title = f"HTTP {status}"
        return _AboutBlank(ProblemType("", title, status), detail, headers=headers)
    if detail is not None and detail.lower() == kind.title.lower():
        detail = None
    return Problem(kind, detail, headers=headers)


class _AboutBlank(Problem):
    """RFC 9457 §4.2.1: a bare status no catalogue names is ``about:blank``."""

    def to_document(self, instance: str | None = None) -> dict[str, Any]:
        document = super().to_document(instance)
        document["type"] = "about:blank"
        return document


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
            MALFORMED_JSON,
            f"The request body is not valid JSON: {detail}".rstrip(": "),
        )
    return Problem(
        VALIDATION_FAILED,
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
        problem = _status_problem(exc.status_code, detail, exc.headers)
        return problem.to_response(request.url.path)

    async def on_validation_error(request: Request, exc: Exception) -> ProblemResponse:
        assert isinstance(exc, RequestValidationError)
        return _validation_problem(exc).to_response(request.url.path)

    async def on_unexpected(request: Request, exc: Exception) -> ProblemResponse:
        logger.exception("unhandled error on %s %r", request.method, request.url.path)
        problem = Problem(INTERNAL_ERROR, "The server failed unexpectedly.")
        return problem.to_response(request.url.path)

    async def on_pool_exhausted(request: Request, exc: Exception) -> ProblemResponse:
        logger.warning("no database connection free for %s %r", request.method, request.url.path)
        return _database_busy().to_response(request.url.path)

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(StarletteHTTPException, on_http_exception)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    pool_timeout = _pool_timeout_error()
    if pool_timeout is not None:
        app.add_exception_handler(pool_timeout, on_pool_exhausted)
    app.add_exception_handler(Exception, on_unexpected)


DATABASE_RETRY_AFTER_SECONDS = 1


def _database_busy() -> Problem:
    return Problem(
        SERVICE_UNAVAILABLE,
        "No database connection became free in time; nothing was changed. Retry shortly.",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
    )


def _pool_timeout_error() -> type[Exception] | None:
    """SQLAlchemy's "no pooled connection within the pool timeout", in a process that has
    SQLAlchemy: answered 503 with Retry-After, not 500 (``strangler_persistence`` keeps that
    timeout to a few seconds, so a busy pool fails fast)."""
    try:
        from sqlalchemy.exc import TimeoutError as PoolTimeout
    except ImportError:  # pragma: no cover - every deployable with a database has it
        return None
    return PoolTimeout
