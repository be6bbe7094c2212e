"""Who sends the e-mails: the gateway's ``mail`` flag, as the monolith reads it.

The flag lives in the gateway (``strangler flags set mail new``). The monolith follows it
with a ``GatewayFlagPoller`` on the gateway's operator listener, run as its ``mail-flag``
loop, so the answer it reads is at most one poll (0.5 s) old while the gateway answers. It
is only ever read from memory, on the request path, once per causing change.

How stale the answer is does not matter for correctness: the side chosen is written into
the causing event in the change's own transaction (``strangler_contracts.mail``), and the
notifications service sends exactly the mails marked ``new``. Before the first read, and
without a gateway to ask, the monolith sends its mails itself, as it always did.
"""

from __future__ import annotations

from collections.abc import Callable

from strangler_contracts import MailSender
from strangler_flags import MAIL, FlagState, RequestFacts, decide

from legacy_monolith.models import User

__all__ = ["MailFlag"]


class MailFlag:
    """Decides which side sends a user's mail from the last flags read (``current``)."""

    def __init__(self, current: Callable[[], FlagState | None] = lambda: None) -> None:
        self._current = current

    def sender_for(self, user: User) -> MailSender:
        """``new`` when the flag (or its targeting of this user) says so and the kill switch
        is off; ``legacy`` otherwise, and before any flags were read."""
        state = self._current()
        if state is None:
            return "legacy"
        facts = RequestFacts(user_key=user.id, user_id=user.id, email=user.email)
        return decide(state.flag(MAIL), state.kill_switch, facts).target.value
