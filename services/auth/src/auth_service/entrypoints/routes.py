"""``/api/auth`` and ``/api/users``: the monolith's contract, request for request (register,
login, the current user, change the profile or the password), plus refresh and logout,
which only auth has."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from http_platform.openapi import problem_responses
from http_platform.service_app import root_of

from auth_service.bootstrap import AuthProcess
from auth_service.entrypoints.identity import Holder, client_address
from auth_service.entrypoints.schemas import (
    ChangePasswordRequest,
    ChangeProfileRequest,
    LoginRequest,
    LogoutRequest,
    RefreshRequest,
    RegisterRequest,
    TokenOut,
    UserOut,
)
from auth_service.service_layer.accounts import Accounts, Session

__all__ = ["router"]

router = APIRouter(tags=["accounts"])


def _accounts(request: Request) -> Accounts:
    return root_of(request, AuthProcess).accounts


AccountsDep = Annotated[Accounts, Depends(_accounts)]
ClientAddress = Annotated[str, Depends(client_address)]


def _token_out(session: Session) -> TokenOut:
    return TokenOut(
        access_token=session.access_token,
        expires_in=session.expires_in,
        refresh_token=session.refresh_token,
        refresh_expires_in=session.refresh_expires_in,
    )


@router.post("/api/users", status_code=status.HTTP_201_CREATED, responses=problem_responses(409))
async def register(body: RegisterRequest, accounts: AccountsDep, response: Response) -> UserOut:
    """Create an account."""
    user = await accounts.register(email=body.email, password=body.password, name=body.name)
    response.headers["Location"] = "/api/users/me"
    return UserOut.model_validate(user)


@router.post("/api/auth/login", responses=problem_responses(401, 429))
async def login(body: LoginRequest, accounts: AccountsDep, address: ClientAddress) -> TokenOut:
    """Exchange e-mail and password for a bearer access token and a refresh token."""
    session = await accounts.login(email=body.email, password=body.password, client_address=address)
    return _token_out(session)


@router.post("/api/auth/refresh", responses=problem_responses(401))
async def refresh(body: RefreshRequest, accounts: AccountsDep) -> TokenOut:
    """Exchange a refresh token, once, for a new access token and the next refresh token."""
    return _token_out(await accounts.refresh(body.refresh_token))


@router.post(
    "/api/auth/logout", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(401)
)
async def logout(body: LogoutRequest, accounts: AccountsDep) -> None:
    """End the session: its refresh tokens and the access tokens issued with them stop working."""
    await accounts.logout(body.refresh_token)


@router.get("/api/users/me", responses=problem_responses(401))
async def me(holder: Holder, accounts: AccountsDep) -> UserOut:
    """The account the bearer token belongs to."""
    return UserOut.model_validate(await accounts.holder(holder))


@router.patch("/api/users/me", responses=problem_responses(401))
async def change_profile(
    body: ChangeProfileRequest, holder: Holder, accounts: AccountsDep
) -> UserOut:
    """Change how the account is shown: its name."""
    return UserOut.model_validate(await accounts.change_profile(holder, name=body.name))


@router.post(
    "/api/users/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403),
)
async def change_password(
    body: ChangePasswordRequest, holder: Holder, accounts: AccountsDep
) -> None:
    """Change the password; tokens issued before the change, and every session, stop working."""
    await accounts.change_password(holder, current=body.current_password, new=body.new_password)
