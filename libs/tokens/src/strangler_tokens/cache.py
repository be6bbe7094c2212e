"""Tokens verified before, by the token itself: a repeat costs a dictionary look-up.

A bearer token is sent with every request of a session, so the gateway sees the same token
many times within its life. Keyed by the whole token string (not its ``jti`` or subject), an
entry can only be found by presenting exactly the bytes that were verified: nothing forged
matches it. An entry leaves when its token expires, never later, and the oldest-used entry
leaves when the cache is full, so a flood of valid tokens cannot grow it without bound.
What it cannot know — a password changed since — stays the upstreams' check (they verify
every token themselves).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from strangler_tokens.access_tokens import VerifiedToken

__all__ = ["VerifiedTokenCache"]


class VerifiedTokenCache:
    """At most ``max_entries`` verified tokens, each until its ``exp``."""

    def __init__(self, max_entries: int = 10_000, clock: Callable[[], float] = time.time) -> None:
        if max_entries < 1:
            raise ValueError("the cache holds at least one token")
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, VerifiedToken]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, token: str) -> VerifiedToken | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        expires, verified = entry
        if self._clock() >= expires:
            del self._entries[token]
            return None
        self._entries.move_to_end(token)
        return verified

    def put(self, token: str, verified: VerifiedToken) -> None:
        self._entries[token] = (verified.expires_at.timestamp(), verified)
        self._entries.move_to_end(token)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
