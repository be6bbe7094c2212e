"""Every refusal of auth's service layer, named by its condition; the entrypoints map each
once to the monolith's problem document for the same condition."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AuthError",
    "DuplicateEmail",
    "InvalidCredentials",
    "InvalidRefreshToken",
    "LoginThrottled",
    "NoSuchSigningKey",
    "TokenNotAccepted",
    "WrongPassword",
]


class AuthError(Exception):
    pass


@dataclass
class DuplicateEmail(AuthError):
    email: str


class InvalidCredentials(AuthError):
    """Unknown address or wrong password: one condition, so nobody learns which."""


class WrongPassword(AuthError):
    """The current password given with a password change is not the account's."""


@dataclass
class LoginThrottled(AuthError):
    retry_after_seconds: int


@dataclass
class InvalidRefreshToken(AuthError):
    reason: str


@dataclass
class TokenNotAccepted(AuthError):
    """A verified access token that auth still refuses: its user is gone, its password
    changed after it was issued, or its session was logged out."""

    reason: str


@dataclass
class NoSuchSigningKey(AuthError):
    kid: str
