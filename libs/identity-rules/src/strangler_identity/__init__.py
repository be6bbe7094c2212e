"""Rules for who a person says they are, shared by the monolith and the auth service.

No web framework, no database (``idna`` and ``argon2-cffi`` only). See ``email_addresses``
and ``passwords`` (the hash schemes both sides accept: argon2id, and the older PBKDF2-SHA256).
"""

from strangler_identity.email_addresses import (
    MAX_ADDRESS_LENGTH,
    EmailAddress,
    UnacceptableEmailAddress,
    comparison_key,
    parse_email_address,
)
from strangler_identity.passwords import (
    MAX_PBKDF2_ITERATIONS,
    PBKDF2_ITERATIONS,
    PasswordHashing,
    Scheme,
    pbkdf2_sha256_hash,
    scheme_of,
)

__all__ = [
    "MAX_ADDRESS_LENGTH",
    "MAX_PBKDF2_ITERATIONS",
    "PBKDF2_ITERATIONS",
    "EmailAddress",
    "PasswordHashing",
    "Scheme",
    "UnacceptableEmailAddress",
    "comparison_key",
    "parse_email_address",
    "pbkdf2_sha256_hash",
    "scheme_of",
]
