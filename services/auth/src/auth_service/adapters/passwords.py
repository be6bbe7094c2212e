"""Password hashes, checked the way the monolith checks them (``strangler_identity``):
argon2id for every new hash, and the older PBKDF2-SHA256 some migrated accounts still carry,
which ``needs_upgrade`` names so the service layer replaces it at the next login.

What auth adds is ``verify_nobody``: the work of one verification against a dummy argon2id
hash, for a login naming no account, so its answer takes as long as a wrong password's.
"""

from __future__ import annotations

from typing import Final

from argon2 import PasswordHasher
from strangler_identity import PasswordHashing as SharedPasswordHashing

__all__ = ["PasswordHashes"]

_DUMMY_PASSWORD: Final = "an account that does not exist"  # noqa: S105 (not a secret)


class PasswordHashes:
    """``PasswordHashing`` on ``strangler_identity.PasswordHashing``."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._shared = SharedPasswordHashing(hasher)
        self._dummy: str | None = None

    def hash(self, password: str) -> str:
        return self._shared.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        return self._shared.verify(password_hash, password)

    def verify_nobody(self, password: str) -> None:
        """Made at the first login naming no account, not at start-up: an argon2id hash costs
        what a start-up should not (and a verification is what is compared with, not it)."""
        if self._dummy is None:
            self._dummy = self._shared.hash(_DUMMY_PASSWORD)
        self._shared.verify(self._dummy, password)

    def needs_upgrade(self, password_hash: str) -> bool:
        return self._shared.needs_upgrade(password_hash)
