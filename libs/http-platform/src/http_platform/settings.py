"""A deployable's settings: what every one shares, and reading them at the command line with
every bad variable named and no traceback."""

from __future__ import annotations

import sys
from typing import TypeVar

from pydantic import BaseModel, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings

__all__ = ["ServiceSettings", "SignedInUserSettings", "settings_or_exit"]

S = TypeVar("S", bound=BaseModel)


class ServiceSettings(BaseSettings):
    """What every deployable serving HTTP is configured with, under its own env prefix."""

    max_body_bytes: int = Field(default=64 * 1024, gt=0, description="Larger bodies are a 413.")
    body_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="A client that stops sending the body it declared is answered 408.",
    )
    operator_token: SecretStr = Field(
        min_length=16,
        description="The bearer token /internal/* requires (the runner's admin token). "
        "Required: there is no safe default.",
    )


class SignedInUserSettings(ServiceSettings):
    """A service that serves signed-in users: whose access tokens it trusts, the monolith's
    and, while the session bridge lasts, the auth service's."""

    jwt_secret: SecretStr = Field(
        description="The HMAC key the monolith signs access tokens with. Required: there is "
        "no safe default."
    )
    jwt_issuer: str = Field(
        default="legacy-monolith", description="The issuer whose access tokens are trusted."
    )
    auth_jwks_url: str | None = Field(
        default=None,
        description="The auth service's JWKS: its EdDSA access tokens are trusted too (the "
        "session bridge). Unset, only the monolith's tokens are; `strangler up` sets it.",
    )
    auth_issuer: str = Field(
        default="strangler-fig-auth", description="The issuer of the auth service's tokens."
    )


def settings_or_exit(settings_class: type[S]) -> S:
    """The settings from the environment, or one stderr line per missing or invalid variable
    (named with the class's ``env_prefix``) and exit status 2."""
    try:
        return settings_class()
    except ValidationError as invalid:
        prefix = str(settings_class.model_config.get("env_prefix", ""))
        for error in invalid.errors():
            name = prefix + "_".join(str(part) for part in error["loc"]).upper()
            print(f"error: {name}: {error['msg']}", file=sys.stderr)
        raise SystemExit(2) from None
