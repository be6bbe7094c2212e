"""The signing keys, seen from outside: the public key set every verifier reads, and the
operator's rotation.

``GET /.well-known/jwks.json`` lists the key that signs, the next one (published before it
signs) and retired ones until their last token expired, with ``Cache-Control: public,
max-age=<AUTH_JWKS_MAX_AGE_SECONDS>``. ``POST /internal/auth/keys/rotate`` (operator token;
what ``strangler auth rotate-keys`` calls) promotes the next key and publishes a new next.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from http_platform.service_app import root_of
from pydantic import BaseModel
from strangler_tokens import jwks_document

from auth_service.adapters.signing import public_jwk
from auth_service.bootstrap import JWKS_PATH, AuthProcess
from auth_service.service_layer.keys import SigningKeyring

__all__ = ["internal_keys_router", "jwks_router"]

jwks_router = APIRouter(tags=["keys"])


@jwks_router.get(JWKS_PATH, response_class=JSONResponse)
async def jwks(request: Request) -> JSONResponse:
    """The public keys access tokens are verified with (RFC 7517 key set)."""
    process = root_of(request, AuthProcess)
    keys = await process.keyring.published()
    return JSONResponse(
        jwks_document(public_jwk(key) for key in keys),
        headers={"Cache-Control": f"public, max-age={process.settings.jwks_max_age_seconds}"},
    )


class KeyOut(BaseModel):
    kid: str
    state: str
    created_at: datetime
    activated_at: datetime | None
    retire_after: datetime | None


class RotationOut(BaseModel):
    signing: str
    next: str
    retired: list[str]
    keys: list[KeyOut]


async def _key_listing(keyring: SigningKeyring) -> list[KeyOut]:
    return [
        KeyOut(
            kid=key.kid,
            state=key.state,
            created_at=key.created_at,
            activated_at=key.activated_at,
            retire_after=key.retire_after,
        )
        for key in await keyring.published()
    ]


def internal_keys_router(keyring: Callable[[], SigningKeyring]) -> APIRouter:
    router = APIRouter(prefix="/internal/auth/keys", tags=["internal"])

    @router.get("")
    async def list_keys() -> list[KeyOut]:
        """Every published key, its state, and until when a retired one stays published."""
        return await _key_listing(keyring())

    @router.post("/rotate")
    async def rotate_keys() -> RotationOut:
        """The next key signs from now on; the old one stays published until its last
        token expired; a new next key is published."""
        rotation = await keyring().rotate()
        return RotationOut(
            signing=rotation.signing,
            next=rotation.next,
            retired=list(rotation.retired),
            keys=await _key_listing(keyring()),
        )

    return router
