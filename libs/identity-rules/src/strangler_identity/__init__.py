"""Rules for who a person says they are, shared by the monolith and the auth service.

Pure Python (plus ``idna``): no web framework, no database. See ``email_addresses``.
"""

from strangler_identity.email_addresses import (
    MAX_ADDRESS_LENGTH,
    EmailAddress,
    UnacceptableEmailAddress,
    comparison_key,
    parse_email_address,
)

__all__ = [
    "MAX_ADDRESS_LENGTH",
    "EmailAddress",
    "UnacceptableEmailAddress",
    "comparison_key",
    "parse_email_address",
]
