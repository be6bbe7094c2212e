"""OpenAPI documents that tell the truth about error answers.

FastAPI documents a 422 with its own validation body and nothing else, while every error a
Strangler Fig process answers is an RFC 9457 problem document. ``install_problem_openapi``
rewrites an app's document once, when it is first asked for:

- one ``ProblemDocument`` schema component; every 4xx/5xx response is
  ``application/problem+json`` with that schema (FastAPI's ``HTTPValidationError`` is gone);
- the statuses any operation can answer are added to every operation: 400 (a NUL
  character in the path or query, malformed JSON, an unusable ``Idempotency-Key``), 422 (a
  parameter or body fails validation), 500 and 503 (busy database, not ready); with a
  request body also 413 (body over the limit); with bearer security 401, and 403 with the
  operator's; with a path parameter 404 (no such id);
- what only some operations answer (409, 402, 403, …) is declared on the route with
  ``responses=problem_responses(409)``.

A client generator or a fuzzer (schemathesis in ``make fuzz``) reads the document and knows
every status and body it can get.
"""

from __future__ import annotations

from collections.abc import Iterable
from http import HTTPStatus
from typing import Any, Final

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from http_platform.problem_writer import PROBLEM_CONTENT_TYPE

__all__ = [
    "ALWAYS",
    "PROBLEM_SCHEMA",
    "document_problems",
    "install_problem_openapi",
    "problem_response",
    "problem_responses",
]

PROBLEM_SCHEMA_NAME: Final = "ProblemDocument"
PROBLEM_REF: Final = f"#/components/schemas/{PROBLEM_SCHEMA_NAME}"
ALWAYS: Final = (400, 422, 500, 503)
WITH_BODY: Final = (413,)
# http_platform.operator's security scheme: a wrong operator token is a 403.
OPERATOR_SCHEME: Final = "OperatorToken"

PROBLEM_SCHEMA: Final[dict[str, Any]] = {
    "title": PROBLEM_SCHEMA_NAME,
    "description": "RFC 9457 problem details. Extension members (``errors``, ``invoice_id``, "
    "``max_bytes`` …) vary by type.",
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "description": "A URI naming the kind of problem."},
        "title": {"type": "string", "description": "The same for every problem of a type."},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "What happened this time."},
        "instance": {"type": "string", "description": "The request path."},
        "errors": {
            "type": "array",
            "description": "With validation-failed: each refused field.",
            "items": {
                "type": "object",
                "required": ["pointer", "message", "code"],
                "properties": {
                    "pointer": {"type": "string"},
                    "message": {"type": "string"},
                    "code": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,
}

_METHODS: Final = frozenset({"get", "put", "post", "delete", "patch", "head", "options"})
_FASTAPI_VALIDATION_SCHEMAS: Final = ("HTTPValidationError", "ValidationError")


def problem_response(status: int, description: str | None = None) -> dict[str, Any]:
    """One OpenAPI response: ``status`` answered with a problem document."""
    return {
        "description": description or _phrase(status),
        "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": PROBLEM_REF}}},
    }


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """For a route's ``responses=``: each of ``statuses`` answered with a problem document."""
    return {status: problem_response(status) for status in statuses}


def install_problem_openapi(app: FastAPI, *, always: Iterable[int] = ALWAYS) -> None:
    """Make ``app.openapi()`` document every error answer as a problem document."""
    common = tuple(always)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
                servers=app.servers,
            )
            app.openapi_schema = document_problems(document, common)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def document_problems(document: dict[str, Any], always: Iterable[int] = ALWAYS) -> dict[str, Any]:
    """``document`` with every operation's error answers documented as problem documents."""
    common = tuple(always)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas[PROBLEM_SCHEMA_NAME] = PROBLEM_SCHEMA
    for path_item in document.get("paths", {}).values():
        for method, operation in path_item.items():
            if method in _METHODS:
                _document_operation(operation, common)
    for name in _FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    return document


def _document_operation(operation: dict[str, Any], always: tuple[int, ...]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    statuses = set(always)
    if "requestBody" in operation:
        statuses.update(WITH_BODY)
    parameters = operation.get("parameters", [])
    for parameter in parameters:
        if parameter.get("in") == "header":
            _drop_null(parameter.get("schema", {}))
    security = operation.get("security", [])
    if security:
        statuses.add(401)
    if any(OPERATOR_SCHEME in requirement for requirement in security):
        statuses.add(403)
    if any(p.get("in") == "path" for p in parameters):
        statuses.add(404)
    for status in statuses:
        responses.setdefault(str(status), problem_response(status))
    for code, response in responses.items():
        if code[:1] in {"4", "5"}:
            description = response.get("description")
            if not description or description == "Validation Error":
                description = _phrase(int(code))
            response.clear()
            response.update(problem_response(int(code), description))


def _drop_null(schema: dict[str, Any]) -> None:
    """A header is present or absent, never ``null``: ``str | None`` is documented as a string."""
    branches = schema.get("anyOf")
    if isinstance(branches, list):
        kept = [branch for branch in branches if branch.get("type") != "null"]
        if len(kept) == 1:
            del schema["anyOf"]
            schema.update(kept[0])


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"
