"""``X-Strangler-Target``: choosing a side per request is an operator's tool, not a client's.

A client that could pick its side would walk around the canary, the kill switch and the
automatic rollback. So the header is honoured only when the gateway is configured with a
targeting token (``GATEWAY_TARGETING_TOKEN``; unset, the default, turns header targeting off)
and the request proves it holds that token in ``X-Strangler-Targeting-Token``. It is a token
of its own, not the admin token: a tester who may look at the new side needs no power to
change flags, and the token travels on the public entry. Anything else — no token, a wrong
one, targeting off — leaves the header without effect; the proxy never forwards either header
to an upstream. The kill switch still wins over a forced side (``strangler_flags.decide``).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from strangler_flags.decision import Target

__all__ = ["TARGETING_TOKEN_HEADER", "TARGET_HEADER", "HeaderTargeting"]

TARGET_HEADER = b"x-strangler-target"
TARGETING_TOKEN_HEADER = b"x-strangler-targeting-token"
_TARGETS = {target.value.encode(): target for target in Target}


class HeaderTargeting:
    """The side a request forces, if it may force one."""

    def __init__(self, token: str | None) -> None:
        self._token = token.encode() if token else None

    @property
    def enabled(self) -> bool:
        return self._token is not None

    def forced_target(self, head: Mapping[bytes, bytes]) -> Target | None:
        """``head``: the request's headers by lower-case name."""
        if self._token is None:
            return None
        wanted = _TARGETS.get(head.get(TARGET_HEADER, b"").strip().lower())
        if wanted is None:
            return None
        offered = head.get(TARGETING_TOKEN_HEADER, b"")
        return wanted if hmac.compare_digest(offered, self._token) else None
