"""Side-effect flags: who does work that no request routes, such as sending an e-mail.

A route flag decides where a request goes. Some work is not a request: the monolith sends
each e-mail inline, inside the request that causes it, and the notifications service would
send the same mail from the event that request publishes. Moving that work is a flag of its
own, beside the route flags: the same store, admin API, ``strangler flags`` commands, audit
trail and kill switch (on, it sends every side effect back to legacy too).

A side-effect flag is ``legacy`` or ``new``, never ``shadow`` or ``canary``
(``strangler_flags.SIDE_EFFECT_MODES``); targeting by user id or e-mail domain moves those
users' side effects first. The gateway only stores it: the side that does the work reads it
(the monolith polls ``GET /_strangler/flags``) and records its decision with the work, so that
a flip never does one mail twice or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from strangler_flags import MAIL

__all__ = ["SIDE_EFFECTS", "SideEffect", "side_effect_named"]


@dataclass(frozen=True, slots=True)
class SideEffect:
    """One side-effect flag, and who does the work on each side (shown by the admin API)."""

    name: str
    legacy: str
    new: str


SIDE_EFFECTS: Final = (
    SideEffect(
        MAIL,
        legacy="the monolith sends each e-mail inline, in the request that causes it",
        new="the notifications service sends each e-mail from the event that causes it",
    ),
)


def side_effect_named(name: str) -> SideEffect | None:
    return next((effect for effect in SIDE_EFFECTS if effect.name == name), None)
