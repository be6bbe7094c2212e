"""Who is calling, as far as routing needs to know: the sticky user key and targeting facts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

__all__ = ["COOKIE_NAME", "Caller", "identify", "parse_cookies"]

COOKIE_NAME = "strangler_uid"


@dataclass(frozen=True, slots=True)
class Caller:
    user_key: str | None
    user_id: str | None
    email: str | None


def parse_cookies(header: str) -> dict[str, str]:
    """Lenient ``Cookie`` parsing: a malformed pair is skipped, never an error."""
    cookies: dict[str, str] = {}
    for pair in header.split(";"):
        name, sep, value = pair.strip().partition("=")
        if sep and name:
            cookies.setdefault(name, value.strip('"'))
    return cookies


def _unverified_claims(authorization: str | None) -> Mapping[str, Any]:
    """The bearer token's claims, read WITHOUT checking its signature.

    This is deliberate and safe only because the result is used for *routing*: which side
    serves the request and which canary bucket the caller falls in. A forged token can at most
    pick its canary bucket or a targeted user's side — never past the kill switch or a
    rollback, which decide before targeting or reset it — and it gets no further than the
    upstream that answers: authorisation stays there, where the token is verified properly.
    The gateway thereby needs no key material and keeps working while keys rotate.
    """
    if authorization is None:
        return {}
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return {}
    try:
        claims = jwt.decode(token.strip(), options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}
    return claims if isinstance(claims, dict) else {}


ANONYMOUS = Caller(user_key=None, user_id=None, email=None)


def identify(authorization: str | None, cookie_header: str | None) -> Caller:
    """The token subject is the user key; without one, the gateway's own cookie is."""
    if authorization is None and cookie_header is None:
        return ANONYMOUS
    claims = _unverified_claims(authorization)
    subject = claims.get("sub")
    user_id = str(subject) if subject is not None else None
    email = claims.get("email")
    email = email if isinstance(email, str) else None
    cookie_uid = parse_cookies(cookie_header).get(COOKIE_NAME) if cookie_header else None
    return Caller(user_key=user_id or cookie_uid or None, user_id=user_id, email=email)
