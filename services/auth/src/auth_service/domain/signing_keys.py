"""The keys access tokens are signed with, and how one replaces another without downtime.

A key is ``next`` (published in the JWKS, signs nothing), then ``current`` (the one key
that signs), then ``retired`` (signs nothing, still published until ``retire_after``, when
the last token it signed has expired), then gone.

A rotation promotes ``next`` to ``current``, retires the old ``current`` and adds a fresh
``next``. A key therefore signs only after it has been published for a whole rotation
period, so verifiers holding a cached key set already know it; and a verifier meeting an
unknown ``kid`` anyway refetches the set.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum

__all__ = ["KeyState", "SigningKey", "rotate"]


class KeyState(StrEnum):
    """Compared with ``==``: a key read from the database holds its state as text."""

    NEXT = "next"
    CURRENT = "current"
    RETIRED = "retired"


class SigningKey:
    def __init__(
        self, *, kid: str, private_key: str, public_key: str, state: KeyState, created_at: datetime
    ) -> None:
        self.kid = kid
        self.private_key = private_key
        """The private half: base64url of its 32 raw bytes."""
        self.public_key = public_key
        """The public half, the JWK's ``x`` (base64url of the 32 raw bytes)."""
        self.state = state
        self.created_at = created_at
        self.activated_at: datetime | None = None
        self.retire_after: datetime | None = None

    def published(self, now: datetime) -> bool:
        """Whether verifiers must still find it in the JWKS."""
        return self.retire_after is None or now < self.retire_after


def rotate(
    keys: Iterable[SigningKey], fresh: SigningKey, now: datetime, longest_token: timedelta
) -> None:
    """``next`` signs from now on, the old ``current`` stays published for ``longest_token``
    (the access-token lifetime plus the verifiers' clock leeway), and ``fresh`` is the new
    ``next``. Without a ``next`` (a first start), ``fresh`` becomes ``next`` and the current
    key keeps signing: nothing signs before it is published."""
    keys = list(keys)
    upcoming = [key for key in keys if key.state == KeyState.NEXT]
    if upcoming:
        for key in keys:
            if key.state == KeyState.CURRENT:
                key.state = KeyState.RETIRED
                key.retire_after = now + longest_token
        promoted = upcoming[0]
        promoted.state = KeyState.CURRENT
        promoted.activated_at = now
    fresh.state = KeyState.NEXT
