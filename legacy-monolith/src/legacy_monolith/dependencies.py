"""FastAPI dependencies shared by the monolith's modules: the runtime the composition root
built (``bootstrap``), a session, the current user (through the session bridge's
anti-corruption layer, ``auth_bridge``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from http_platform.bearer import NO_BEARER, keys_unavailable, unauthenticated
from http_platform.service_app import root_of
from sqlalchemy.ext.asyncio import AsyncSession
from strangler_tokens import KeysUnavailable

from legacy_monolith.auth_bridge import SessionRefused
from legacy_monolith.models import User
from legacy_monolith.runtime import Runtime

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


async def _current_user(
    runtime: RuntimeDep,
    session: DbSession,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    if credentials is None:
        raise unauthenticated(NO_BEARER)
    try:
        return await runtime.auth_bridge.user(credentials.credentials, session)
    except SessionRefused as exc:
        raise unauthenticated(str(exc)) from exc
    except KeysUnavailable as exc:
        raise keys_unavailable() from exc


CurrentUser = Annotated[User, Depends(_current_user)]
