"""Every refusal of the service layer, mapped once to its problem document.

``duplicate-email``, ``invalid-credentials`` and ``wrong-password`` are the monolith's types,
defined identically (the catalogue registry refuses a slug defined twice with another title
or status), so a client cannot tell which side refused. ``login-throttled`` and
``invalid-refresh-token`` are auth's own: the monolith neither throttles nor refreshes.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from http_platform import Problem, ProblemCatalogue, ProblemResponse
from http_platform.problem_catalogue import UNAUTHENTICATED

from auth_service.domain import errors

__all__ = ["AUTH_PROBLEMS", "install_auth_problems", "problem_for", "unauthenticated"]

AUTH_PROBLEMS = ProblemCatalogue("auth")
DUPLICATE_EMAIL = AUTH_PROBLEMS.define(
    "duplicate-email",
    "E-mail already registered",
    409,
    "An account with this e-mail address exists already.",
)
INVALID_CREDENTIALS = AUTH_PROBLEMS.define(
    "invalid-credentials", "Invalid credentials", 401, "The e-mail or the password is wrong."
)
WRONG_PASSWORD = AUTH_PROBLEMS.define(
    "wrong-password", "Wrong password", 403, "The current password given is not correct."
)
LOGIN_THROTTLED = AUTH_PROBLEMS.define(
    "login-throttled",
    "Too many failed logins",
    429,
    "Too many failed logins for this account or from this address; retry after Retry-After.",
)
INVALID_REFRESH_TOKEN = AUTH_PROBLEMS.define(
    "invalid-refresh-token",
    "Invalid refresh token",
    401,
    "The refresh token is unknown, used before (its session is then revoked), ended or expired.",
)


def unauthenticated(detail: str) -> Problem:
    return Problem(UNAUTHENTICATED, detail, headers={"WWW-Authenticate": "Bearer"})


def problem_for(error: errors.AuthError) -> Problem:
    match error:
        case errors.DuplicateEmail():
            return Problem(
                DUPLICATE_EMAIL, f"An account with the e-mail '{error.email}' already exists."
            )
        case errors.InvalidCredentials():
            return Problem(
                INVALID_CREDENTIALS,
                "The e-mail or the password is wrong.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        case errors.WrongPassword():
            return Problem(WRONG_PASSWORD, "The current password is not correct.")
        case errors.LoginThrottled():
            return Problem(
                LOGIN_THROTTLED,
                "Too many failed logins for this account or from this address; retry in "
                f"{error.retry_after_seconds} s.",
                headers={"Retry-After": str(error.retry_after_seconds)},
            )
        case errors.InvalidRefreshToken():
            return Problem(
                INVALID_REFRESH_TOKEN,
                f"The refresh token is not valid: {error.reason}.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        case errors.TokenNotAccepted():
            return unauthenticated(error.reason)
    raise TypeError(f"no problem document for {type(error).__name__}") from error


def install_auth_problems(app: FastAPI) -> None:
    async def on_auth_error(request: Request, exc: Exception) -> ProblemResponse:
        assert isinstance(exc, errors.AuthError)
        return problem_for(exc).to_response(request.url.path)

    app.add_exception_handler(errors.AuthError, on_auth_error)
