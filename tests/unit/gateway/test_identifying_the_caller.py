"""The sticky user key: token subject first, the gateway's cookie otherwise."""

from __future__ import annotations

import jwt
from strangler_gateway.identity import identify, parse_cookies


def _token(**claims: str) -> str:
    return "Bearer " + jwt.encode(
        claims, "any-key-the-gateway-never-sees-nor-needs", algorithm="HS256"
    )


def test_the_token_subject_is_the_user_key_without_verifying_the_signature() -> None:
    caller = identify(_token(sub="u-42", email="a@b.example"), "strangler_uid=cookie-1")

    assert caller.user_key == "u-42"
    assert caller.user_id == "u-42"
    assert caller.email == "a@b.example"


def test_without_a_token_the_cookie_is_the_user_key() -> None:
    caller = identify(None, "theme=dark; strangler_uid=cookie-1")

    assert caller.user_key == "cookie-1"
    assert caller.user_id is None


def test_a_garbled_token_or_cookie_header_identifies_nobody_instead_of_failing() -> None:
    assert identify("Bearer not.a.jwt", "=;;==; x").user_key is None
    assert identify("Basic dXNlcg==", None).user_key is None


def test_cookie_parsing_is_lenient() -> None:
    assert parse_cookies('a=1; b="2"; broken; =x') == {"a": "1", "b": "2"}
