"""The operator credential: what guards ``/internal/*`` on every process.

Internal endpoints (exports holding every customer's e-mail and name, backfill triggers, the
saga operator API, checksums) are for the other side of a migration and for the ``strangler``
CLI, not for whoever reaches the port. Each is served only to a caller presenting
``Authorization: Bearer <operator token>``; the runner generates the token into
``.strangler/secrets.json`` and gives it to every process (``<PREFIX>_OPERATOR_TOKEN``) and
to its own clients.

No token is a 401 ``operator-token-required`` (with ``WWW-Authenticate``), a wrong one a 403
``operator-token-wrong``; the comparison takes the same time whatever the token holds.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

from http_platform.problem_catalogue import OPERATOR_TOKEN_REQUIRED, OPERATOR_TOKEN_WRONG
from http_platform.problem_writer import Problem

__all__ = [
    "OPERATOR_SCHEME",
    "operator_bearer",
    "operator_credential",
    "operator_headers",
    "verify_operator_token",
]

OPERATOR_SCHEME = "OperatorToken"

operator_bearer = HTTPBearer(
    auto_error=False,
    scheme_name=OPERATOR_SCHEME,
    description="The operator token (`.strangler/secrets.json`, `admin_token`).",
)
"""The bearer scheme every operator surface reads its credential with (and documents)."""


def verify_operator_token(
    credentials: HTTPAuthorizationCredentials | None, token: SecretStr
) -> None:
    """Let through only a caller presenting ``token``; otherwise a 401 or 403 problem."""
    if credentials is None:
        raise Problem(
            OPERATOR_TOKEN_REQUIRED,
            "Send 'Authorization: Bearer <operator token>'.",
            headers={"WWW-Authenticate": 'Bearer realm="operator"'},
        )
    expected = token.get_secret_value().encode()
    if not hmac.compare_digest(credentials.credentials.encode(), expected):
        raise Problem(OPERATOR_TOKEN_WRONG, "The bearer token is not the operator token.")


def operator_credential(token: SecretStr) -> Callable[..., None]:
    """A FastAPI dependency that lets only callers presenting ``token`` through."""
    if not token.get_secret_value():
        raise ValueError("the operator token must not be empty")

    def require_operator(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(operator_bearer)],
    ) -> None:
        verify_operator_token(credentials, token)

    return require_operator


def operator_headers(token: str) -> dict[str, str]:
    """The headers a client of an internal API sends."""
    return {"Authorization": f"Bearer {token}"}
