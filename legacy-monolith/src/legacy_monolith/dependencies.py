"""FastAPI dependencies shared by the monolith's modules: the runtime the composition root
built (``bootstrap``), a session, the current user."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from http_platform import Problem
from http_platform.problem_catalogue import UNAUTHENTICATED
from http_platform.service_app import root_of
from sqlalchemy.ext.asyncio import AsyncSession

from legacy_monolith.models import User
from legacy_monolith.runtime import Runtime
from legacy_monolith.security import InvalidToken

__all__ = ["CurrentUser", "DbSession", "RuntimeDep"]


async def _runtime(request: Request) -> Runtime:
    """What ``bootstrap.build_runtime`` built for the app serving this request."""
    return root_of(request, Runtime)


RuntimeDep = Annotated[Runtime, Depends(_runtime)]


async def _session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """One session per request; anything not committed by the handler is rolled back."""
    async with runtime.sessions() as session:
        yield session


DbSession = Annotated[AsyncSession, Depends(_session)]

_bearer = HTTPBearer(auto_error=False)


def _unauthenticated(detail: str) -> Problem:
    return Problem(UNAUTHENTICATED, detail, headers={"WWW-Authenticate": "Bearer"})


async def _current_user(
    runtime: RuntimeDep,
    session: DbSession,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    if credentials is None:
        raise _unauthenticated("Send 'Authorization: Bearer <access_token>' from /api/auth/login.")
    try:
        token = runtime.tokens.verify(credentials.credentials)
    except InvalidToken as exc:
        raise _unauthenticated(f"The access token is not valid: {exc}.") from exc
    user = await session.get(User, token.user_id)
    if user is None:
        raise _unauthenticated("The access token names a user that does not exist.")
    if token.issued_at < user.password_changed_at:
        raise _unauthenticated("The password changed after this token was issued; log in again.")
    return user


CurrentUser = Annotated[User, Depends(_current_user)]
