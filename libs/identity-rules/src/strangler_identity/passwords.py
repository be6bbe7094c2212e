"""Password hashes: the schemes an account's hash may be in, checked in one place.

New hashes are argon2id (argon2-cffi's defaults: 64 MiB, 3 passes, 4 lanes). Older accounts
may still carry a hash from before the monolith moved to argon2: PBKDF2-HMAC-SHA256 in the
encoding Django and passlib's ``django_pbkdf2_sha256`` use,
``pbkdf2_sha256$<iterations>$<salt>$<base64 of the 32-byte key>``. Both verify here, so the
monolith and the auth service accept the same hashes; ``needs_upgrade`` says when a hash
should be replaced by a fresh argon2id one — after a successful login, when the password
is at hand (auth does it; the monolith does not rewrite hashes while auth is extracted).

A stored hash is trusted data, but bounded all the same: a PBKDF2 hash asking for more than
``MAX_PBKDF2_ITERATIONS`` rounds is refused rather than computed, so a bad row cannot make
one login burn seconds of CPU.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from typing import Final, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = [
    "MAX_PBKDF2_ITERATIONS",
    "PBKDF2_ITERATIONS",
    "PasswordHashing",
    "Scheme",
    "pbkdf2_sha256_hash",
    "scheme_of",
]

Scheme = Literal["argon2id", "argon2", "pbkdf2_sha256", "unknown"]

PBKDF2_PREFIX: Final = "pbkdf2_sha256"
PBKDF2_ITERATIONS: Final = 600_000
"""OWASP's 2023 figure for PBKDF2-HMAC-SHA256; what the demo's older hashes use."""
MAX_PBKDF2_ITERATIONS: Final = 5_000_000
_PBKDF2_KEY_BYTES: Final = 32


def scheme_of(password_hash: str) -> Scheme:
    """The scheme a stored hash is in, by its prefix."""
    if password_hash.startswith("$argon2id$"):
        return "argon2id"
    if password_hash.startswith(("$argon2i$", "$argon2d$")):
        return "argon2"
    if password_hash.startswith(f"{PBKDF2_PREFIX}$"):
        return "pbkdf2_sha256"
    return "unknown"


def pbkdf2_sha256_hash(
    password: str, *, salt: str | None = None, iterations: int = PBKDF2_ITERATIONS
) -> str:
    """``password`` as an older-scheme hash (``pbkdf2_sha256$…``): for demo data and tests,
    never for a new password."""
    salt = salt or secrets.token_urlsafe(16)
    if "$" in salt:
        raise ValueError("a PBKDF2 salt cannot contain '$'")
    key = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)
    return f"{PBKDF2_PREFIX}${iterations}${salt}${base64.b64encode(key).decode('ascii')}"


def _verify_pbkdf2_sha256(password_hash: str, password: str) -> bool:
    parts = password_hash.split("$")
    if len(parts) != 4 or not parts[1].isdigit():
        return False
    iterations, salt, encoded = int(parts[1]), parts[2], parts[3]
    if not 1 <= iterations <= MAX_PBKDF2_ITERATIONS or not salt:
        return False
    try:
        expected = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return False
    if len(expected) != _PBKDF2_KEY_BYTES:
        return False
    key = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)
    return hmac.compare_digest(key, expected)


class PasswordHashing:
    """Hashes new passwords with argon2id; verifies argon2 and ``pbkdf2_sha256`` hashes."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        """Whether ``password`` is the one ``password_hash`` was made from; a hash in no
        known scheme, or malformed, verifies nothing."""
        scheme = scheme_of(password_hash)
        if scheme == "pbkdf2_sha256":
            return _verify_pbkdf2_sha256(password_hash, password)
        if scheme == "unknown":
            return False
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_upgrade(self, password_hash: str) -> bool:
        """Whether to replace this hash by ``hash(password)`` after a successful login: an
        older scheme, or argon2 with other parameters than this hasher's."""
        if scheme_of(password_hash) != "argon2id":
            return True
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True
