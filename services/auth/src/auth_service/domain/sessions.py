"""A login session: the family of refresh tokens that one login started.

Rules:

- a refresh token is opaque and used once: using it gives a new access token and the next
  refresh token of the same family, and marks it used;
- a used refresh token presented again means two parties hold it (the rightful client
  refreshed, or a thief did first): the whole family is revoked, so neither can go on;
- logout revokes the family; a password change revokes every family of the user;
- each refresh token remembers the ``jti`` of the access token issued with it, so auth
  refuses the access tokens of a revoked session too, not only its refresh tokens.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

__all__ = ["Redemption", "RefreshToken"]


class Redemption(StrEnum):
    ACCEPTED = "accepted"
    REUSED = "reused"
    REVOKED = "revoked"
    EXPIRED = "expired"


class RefreshToken:
    def __init__(
        self,
        *,
        token_hash: str,
        family_id: str,
        user_id: str,
        access_token_id: str,
        issued_at: datetime,
        expires_at: datetime,
    ) -> None:
        self.token_hash = token_hash
        self.family_id = family_id
        self.user_id = user_id
        self.access_token_id = access_token_id
        """The ``jti`` of the access token issued with it: revoking the family refuses that
        access token at auth too."""
        self.issued_at = issued_at
        self.expires_at = expires_at
        self.used_at: datetime | None = None
        self.revoked_at: datetime | None = None

    def redeem(self, now: datetime) -> Redemption:
        """Use the token once; what the caller must do about anything but ``ACCEPTED`` is
        named by the answer (``REUSED``: revoke the family)."""
        if self.revoked_at is not None:
            return Redemption.REVOKED
        if self.used_at is not None:
            return Redemption.REUSED
        if now >= self.expires_at:
            return Redemption.EXPIRED
        self.used_at = now
        return Redemption.ACCEPTED
