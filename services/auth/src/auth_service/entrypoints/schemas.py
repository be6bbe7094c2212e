"""Request and response bodies: the monolith's for its routes (the same fields, limits and
refusals, so a client cannot tell which side answered), and auth's own for refresh and
logout. Requests are strict: no coercion, no extras."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from http_platform.edge_input import SingleLineText
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from strangler_identity import MAX_ADDRESS_LENGTH, UnacceptableEmailAddress, parse_email_address

__all__ = [
    "ChangePasswordRequest",
    "ChangeProfileRequest",
    "LoginRequest",
    "LogoutRequest",
    "RefreshRequest",
    "RegisterRequest",
    "TokenOut",
    "UserOut",
]

Password = Annotated[str, Field(min_length=8, max_length=128)]
Name = Annotated[
    SingleLineText, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
]
RefreshToken = Annotated[str, Field(min_length=1, max_length=200)]


def _acceptable_address(value: str) -> str:
    try:
        return parse_email_address(value).address
    except UnacceptableEmailAddress as exc:
        raise ValueError(str(exc)) from exc


EmailAddress = Annotated[
    str, Field(min_length=3, max_length=MAX_ADDRESS_LENGTH), AfterValidator(_acceptable_address)
]


class Request(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class Response(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class RegisterRequest(Request):
    email: EmailAddress
    password: Password
    name: Name


class LoginRequest(Request):
    email: Annotated[str, Field(min_length=1, max_length=320)]
    password: Annotated[str, Field(min_length=1, max_length=128)]


class ChangePasswordRequest(Request):
    current_password: Annotated[str, Field(min_length=1, max_length=128)]
    new_password: Password


class ChangeProfileRequest(Request):
    name: Name


class RefreshRequest(Request):
    refresh_token: RefreshToken


class LogoutRequest(Request):
    refresh_token: RefreshToken


class UserOut(Response):
    id: str
    email: str
    name: str
    created_at: datetime


class TokenOut(BaseModel):
    """The monolith's answer to a login, plus the refresh token (a member old clients
    ignore)."""

    access_token: str
    token_type: str = "bearer"  # noqa: S105  (the OAuth 2 token type, not a secret)
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
