"""Password hashes: argon2id for every new hash (the monolith's parameters, argon2-cffi's
defaults), and the older PBKDF2-SHA256 some migrated accounts still carry.

A PBKDF2 hash is written ``pbkdf2_sha256$<iterations>$<salt>$<base64 of the 32-byte key>``
(Django's layout, the common one in the wild). It is accepted, and ``needs_upgrade`` says so,
so the service layer replaces it with argon2id at the account's next successful login.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["PBKDF2_PREFIX", "PasswordHashes", "pbkdf2_sha256_hash"]

PBKDF2_PREFIX: Final = "pbkdf2_sha256$"
MAX_PBKDF2_ITERATIONS: Final = 2_000_000
_DUMMY_PASSWORD: Final = "an account that does not exist"  # noqa: S105 (not a secret)


def pbkdf2_sha256_hash(password: str, salt: str, iterations: int) -> str:
    """A hash in the older scheme, as the legacy data holds them (tests and demo data)."""
    key = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)
    return f"{PBKDF2_PREFIX}{iterations}${salt}${base64.b64encode(key).decode('ascii')}"


def _verify_pbkdf2(password_hash: str, password: str) -> bool:
    parts = password_hash.split("$")
    if len(parts) != 4 or not parts[1].isdigit():
        return False
    iterations = int(parts[1])
    if not 1 <= iterations <= MAX_PBKDF2_ITERATIONS:
        return False
    expected = pbkdf2_sha256_hash(password, parts[2], iterations)
    return hmac.compare_digest(expected.encode(), password_hash.encode())


class PasswordHashes:
    """``PasswordHashing`` on argon2-cffi (argon2id) and hashlib (PBKDF2-SHA256)."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        self._dummy = self._hasher.hash(_DUMMY_PASSWORD)

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        if password_hash.startswith(PBKDF2_PREFIX):
            return _verify_pbkdf2(password_hash, password)
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def verify_nobody(self, password: str) -> None:
        self.verify(self._dummy, password)

    def needs_upgrade(self, password_hash: str) -> bool:
        if password_hash.startswith(PBKDF2_PREFIX):
            return True
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True
