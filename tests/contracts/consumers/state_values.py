"""Values a pact's request takes from its provider state (Pact's provider-state injected
values): the pact holds an example, which the mock server matches; the verification asks the
state's setup and sends what it answered (tests/contracts/verification.py serves the setups).
"""

from __future__ import annotations

import re

from pact import generate
from pact.match.matcher import GenericMatcher

__all__ = ["bearer_from_state", "path_from_state", "value_from_state"]


def value_from_state(example: str, name: str) -> GenericMatcher[str]:
    """Any string like ``example`` to the mock server; the state's ``name`` when verified."""
    return GenericMatcher("type", example, generator=generate.provider_state(f"${{{name}}}"))


def bearer_from_state(example_token: str, name: str) -> GenericMatcher[str]:
    """``Bearer <token>``: the example's token to the mock server, the state's ``name``
    (a token the provider trusts) when verified."""
    return GenericMatcher(
        "regex",
        f"Bearer {example_token}",
        regex=r"^Bearer \S+$",
        generator=generate.provider_state(f"Bearer ${{{name}}}"),
    )


def path_from_state(prefix: str, example_id: str, name: str) -> GenericMatcher[str]:
    """``prefix/<id>``: the example's id only to the mock server (so that it tells one record's
    path from another's), the id the state's ``name`` answers when verified."""
    return GenericMatcher(
        "regex",
        f"{prefix}/{example_id}",
        regex=f"^{re.escape(prefix)}/{re.escape(example_id)}$",
        generator=generate.provider_state(f"{prefix}/${{{name}}}"),
    )
