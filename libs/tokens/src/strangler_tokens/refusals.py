"""Why a token is refused: one exception, ``TokenRefused``, with a reason from a closed list.

Every way a bearer token can be wrong ends here, so each caller (auth, billing, the
monolith's anti-corruption layer, the gateway) maps one exception to one 401 answer and
never a 500. ``KeysUnavailable`` is not a refusal: the token may be fine, but the keys to
check it could not be fetched — a caller answers 503 for it, not 401, so an outage of the
JWKS does not tell clients their tokens are bad.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["KeysUnavailable", "Reason", "TokenRefused"]

Reason = Literal[
    "malformed",
    "algorithm-not-allowed",
    "unknown-key",
    "bad-signature",
    "expired",
    "not-yet-valid",
    "wrong-issuer",
    "wrong-audience",
    "missing-claim",
    "bad-subject",
    "bad-issued-at",
    "bad-claim",
]


class TokenRefused(Exception):
    """The token is not accepted; ``reason`` says which check it failed, ``str()`` says how."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason: Reason = reason
        self.detail = detail


class KeysUnavailable(Exception):
    """No key set could be fetched yet, so an auth token cannot be checked at all."""
