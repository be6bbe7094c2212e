"""Every refusal of the service layer, mapped once to its problem document: the monolith's
``not-found`` for a notification, and for a template."""

from __future__ import annotations

from fastapi import FastAPI, Request
from http_platform import Problem, ProblemResponse
from http_platform.problem_catalogue import NOT_FOUND

from notifications_service.domain import errors

__all__ = ["install_notifications_problems", "problem_for"]


def problem_for(error: errors.NotificationsError) -> Problem:
    match error:
        case errors.NotificationNotFound():
            return Problem(NOT_FOUND, f"No notification with id '{error.notification_id}'.")
        case errors.UnknownTemplate():
            return Problem(NOT_FOUND, f"No template named '{error.name}'.")
    raise TypeError(f"no problem document for {type(error).__name__}") from error


def install_notifications_problems(app: FastAPI) -> None:
    async def on_error(request: Request, exc: Exception) -> ProblemResponse:
        assert isinstance(exc, errors.NotificationsError)
        return problem_for(exc).to_response(request.url.path)

    app.add_exception_handler(errors.NotificationsError, on_error)
