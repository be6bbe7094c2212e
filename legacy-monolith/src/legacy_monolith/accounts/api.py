"""``/api/auth`` and ``/api/users``: registration, login, the current user, passwords, profile."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from http_platform.openapi import problem_responses

from legacy_monolith.accounts import service
from legacy_monolith.dependencies import CurrentUser, DbSession, RuntimeDep
from legacy_monolith.schemas import (
    ChangePasswordRequest,
    ChangeProfileRequest,
    LoginRequest,
    RegisterRequest,
    TokenOut,
    UserOut,
)

__all__ = ["router"]

router = APIRouter(tags=["accounts"])


@router.post("/api/users", status_code=status.HTTP_201_CREATED, responses=problem_responses(409))
async def register(
    body: RegisterRequest, session: DbSession, runtime: RuntimeDep, response: Response
) -> UserOut:
    """Create an account and send the welcome e-mail."""
    user = await service.register(
        session, runtime, email=body.email, password=body.password, name=body.name
    )
    response.headers["Location"] = "/api/users/me"
    return UserOut.model_validate(user)


@router.post("/api/auth/login", responses=problem_responses(401))
async def login(body: LoginRequest, session: DbSession, runtime: RuntimeDep) -> TokenOut:
    """Exchange e-mail and password for a bearer access token."""
    token = await service.login(session, runtime, email=body.email, password=body.password)
    return TokenOut(access_token=token, expires_in=runtime.tokens.ttl_seconds)


@router.get("/api/users/me")
async def me(user: CurrentUser) -> UserOut:
    """The account the bearer token belongs to."""
    return UserOut.model_validate(user)


@router.patch("/api/users/me")
async def change_profile(
    body: ChangeProfileRequest, user: CurrentUser, session: DbSession
) -> UserOut:
    """Change how the account is shown: its name."""
    return UserOut.model_validate(await service.change_profile(session, user, name=body.name))


@router.post(
    "/api/users/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(403),
)
async def change_password(
    body: ChangePasswordRequest, user: CurrentUser, session: DbSession, runtime: RuntimeDep
) -> None:
    """Change the password; tokens issued before the change stop working."""
    await service.change_password(
        session, runtime, user, current=body.current_password, new=body.new_password
    )
