"""Which of two versions of one record wins, and how a side recognises its own changes.

Every record on both sides carries a ``Stamp``: its ``version`` (1, then one more for every
change, whichever side makes it) and its ``origin`` (the side that made that version). A
change from the other side is applied only if it wins against the local stamp:

1. the higher version wins — the record went through more changes there;
2. the same version from the same origin is the same change again: nothing to do;
3. the same version from different origins is a conflict (both sides changed the record
   concurrently): the origin listed first in ``precedence`` wins.

Both sides apply the same rule with the same precedence, so after the changes have crossed,
both hold the winner.

Loops are prevented in two ways. A side applies the other side's change below its domain, so
applying it records no event of its own (nothing is echoed). And a side reading a shared
topic skips the events it published itself (``Side.made``): the change is already there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from strangler_contracts import CloudEvent

__all__ = ["Side", "Stamp", "Stamped", "incoming_wins"]


class Stamped(Protocol):
    @property
    def version(self) -> int: ...

    @property
    def origin(self) -> str: ...


@dataclass(frozen=True)
class Stamp:
    version: int
    origin: str


def incoming_wins(local: Stamped | None, incoming: Stamped, precedence: Sequence[str]) -> bool:
    """Whether ``incoming`` replaces ``local`` (absent: it always does). See the module."""
    if local is None:
        return True
    if incoming.version != local.version:
        return incoming.version > local.version
    if incoming.origin == local.origin:
        return False
    return _rank(incoming.origin, precedence) < _rank(local.origin, precedence)


def _rank(origin: str, precedence: Sequence[str]) -> int:
    """Sides not named in ``precedence`` come after those named, in name order."""
    return precedence.index(origin) if origin in precedence else len(precedence)


@dataclass(frozen=True)
class Side:
    """One side of a two-way sync, named as the ``source`` of its events names it
    (``/legacy-monolith`` is side ``legacy-monolith``)."""

    name: str

    @staticmethod
    def origin_of(envelope: CloudEvent, declared: str | None) -> str:
        """The side that made the change an event describes: the event's own ``origin``,
        else (events written before two-way sync) its producer."""
        return declared or envelope.source.strip("/")

    def made(self, envelope: CloudEvent, declared: str | None) -> bool:
        """Whether this side made the change itself, so applying it again would echo it."""
        return self.origin_of(envelope, declared) == self.name
