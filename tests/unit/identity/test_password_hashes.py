"""Password hashes: argon2id for new ones, the older PBKDF2-SHA256 still accepted."""

from __future__ import annotations

import base64
import hashlib

import pytest
from argon2 import PasswordHasher
from strangler_identity import (
    MAX_PBKDF2_ITERATIONS,
    PasswordHashing,
    pbkdf2_sha256_hash,
    scheme_of,
)

FAST = PasswordHashing(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
FEW_ROUNDS = 1_000
A_KEY = base64.b64encode(b"x" * 32).decode()


def test_a_new_password_is_hashed_with_argon2id_and_verifies() -> None:
    stored = FAST.hash("correct horse")

    assert scheme_of(stored) == "argon2id"
    assert FAST.verify(stored, "correct horse")
    assert not FAST.verify(stored, "wrong horse")


def test_an_older_pbkdf2_hash_verifies_only_its_password() -> None:
    stored = pbkdf2_sha256_hash("correct horse", salt="seasalt", iterations=FEW_ROUNDS)

    assert stored.startswith("pbkdf2_sha256$1000$seasalt$")
    assert scheme_of(stored) == "pbkdf2_sha256"
    assert FAST.verify(stored, "correct horse")
    assert not FAST.verify(stored, "correct horse ")
    assert not FAST.verify(stored, "")


def test_the_pbkdf2_encoding_is_djangos() -> None:
    key = hashlib.pbkdf2_hmac("sha256", b"correct horse", b"seasalt", FEW_ROUNDS)
    expected = f"pbkdf2_sha256${FEW_ROUNDS}$seasalt${base64.b64encode(key).decode()}"

    assert pbkdf2_sha256_hash("correct horse", salt="seasalt", iterations=FEW_ROUNDS) == expected


def test_an_older_or_weaker_hash_needs_an_upgrade_after_login_and_a_current_one_does_not() -> None:
    assert FAST.needs_upgrade(pbkdf2_sha256_hash("pw", iterations=FEW_ROUNDS))
    assert FAST.needs_upgrade(PasswordHashing().hash("pw"))  # other argon2 parameters
    assert not FAST.needs_upgrade(FAST.hash("pw"))


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "plaintext-password",
        "md5$abc$def",
        "pbkdf2_sha256$",
        "pbkdf2_sha256$1000$salt",
        "pbkdf2_sha256$abc$salt$" + A_KEY,
        "pbkdf2_sha256$0$salt$" + A_KEY,
        "pbkdf2_sha256$1000$$" + A_KEY,
        "pbkdf2_sha256$1000$salt$not base64!",
        "pbkdf2_sha256$1000$salt$" + base64.b64encode(b"short").decode(),
        f"pbkdf2_sha256${MAX_PBKDF2_ITERATIONS + 1}$salt${A_KEY}",
        "$argon2id$v=19$m=65536,t=3,p=4$garbage",
    ],
)
def test_a_malformed_or_unknown_hash_verifies_nothing_and_never_raises(stored: str) -> None:
    assert not FAST.verify(stored, "pw")
