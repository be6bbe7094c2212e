"""Login throttling: how many failed logins one account, or one client address, may make.

Each key (an account's address key, a client address) counts its failures in a fixed window
that starts with its first failure. At the limit, logins for that key are refused until the
window ends, before any password is checked (so a locked key costs the server nothing and
tells the caller nothing about the password). A successful login clears its account's
count, never its address's: one valid account must not reset an address's count.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

__all__ = ["LoginThrottle"]


class LoginThrottle:
    def __init__(self, *, key: str, now: datetime) -> None:
        self.key = key
        self.failures = 0
        self.window_started_at = now

    def retry_after(self, now: datetime, limit: int, window: timedelta) -> int | None:
        """Seconds until a login for this key is heard again, or None if it is now."""
        ends = self.window_started_at + window
        if self.failures < limit or now >= ends:
            return None
        return max(1, math.ceil((ends - now).total_seconds()))

    def failed(self, now: datetime, window: timedelta) -> None:
        if now >= self.window_started_at + window:
            self.failures = 0
            self.window_started_at = now
        self.failures += 1

    def cleared(self, now: datetime) -> None:
        self.failures = 0
        self.window_started_at = now
