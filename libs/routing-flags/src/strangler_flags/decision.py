"""Routing flags and the decision they make: pure domain, no I/O.

A flag belongs to one route and says where its traffic goes. ``decide`` is evaluated on every
request, so it only reads values already in memory. The gateway decides with it, and so does
the OpenFeature provider in ``strangler_flags.provider``: a service asking "is new serving
this user?" gets exactly the gateway's answer.

Order of precedence, first match wins:

1. the global kill switch sends everything to legacy;
2. a forced side: ``X-Strangler-Target`` from an operator holding the gateway's targeting
   token (the gateway ignores it from anyone else), or the provider's ``target`` attribute;
3. targeting by user id, then by e-mail domain, sends those users to new;
4. the mode: ``legacy`` and ``shadow`` serve from legacy, ``new`` from new, and ``canary``
   sends the users whose bucket is below ``percent`` to new.

Buckets are ``sha256(user key) mod 100``, independent of the route, so a user in bucket 17 is
on new for every route ramped above 17 %, and ramping 10 → 30 only moves users from legacy to
new — never back and forth.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

__all__ = [
    "BUCKETS",
    "MAIL",
    "SIDE_EFFECT_MODES",
    "Decision",
    "FlagState",
    "Mode",
    "RequestFacts",
    "RouteFlag",
    "Target",
    "bucket_of",
    "decide",
]

BUCKETS = 100


class Mode(StrEnum):
    LEGACY = "legacy"
    SHADOW = "shadow"
    CANARY = "canary"
    NEW = "new"


class Target(StrEnum):
    LEGACY = "legacy"
    NEW = "new"


MAIL = "mail"
"""The side-effect flag that says who sends the e-mails: the monolith inline, or the
notifications service from events. Side-effect flags sit beside the route flags, in the same
store and audit trail, and decide with the same ``decide``."""

SIDE_EFFECT_MODES = frozenset({Mode.LEGACY, Mode.NEW})
"""A side effect is done by exactly one side: never mirrored (shadow), never split by
percentage (a mail sent by both, or by neither, is the failure the flag exists to prevent)."""


@dataclass(frozen=True, slots=True)
class RouteFlag:
    mode: Mode = Mode.LEGACY
    percent: int = 0
    force_new_user_ids: frozenset[str] = field(default_factory=frozenset)
    force_new_email_domains: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not 0 <= self.percent <= 100:
            raise ValueError(f"percent must be within 0..100, not {self.percent}")


@dataclass(frozen=True, slots=True)
class FlagState:
    """Every route's flag and the kill switch, as one immutable snapshot."""

    flags: Mapping[str, RouteFlag] = field(default_factory=lambda: MappingProxyType({}))
    kill_switch: bool = False

    def flag(self, name: str) -> RouteFlag:
        """A route without a stored flag stays on legacy."""
        flag = self.flags.get(name)
        return _ON_LEGACY if flag is None else flag  # asked on every request: nothing built


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """What the gateway knows about a request that routing may depend on.

    ``user_key`` is the sticky identity (token subject, else the gateway's cookie);
    ``user_id`` and ``email`` come from the bearer token when there is one.
    """

    user_key: str
    user_id: str | None = None
    email: str | None = None
    forced_target: Target | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    target: Target
    reason: str


_ON_LEGACY = RouteFlag()
# The answers of ``decide`` that depend on the mode alone, made once (it runs per request).
_BY_MODE = {
    Mode.LEGACY: Decision(Target.LEGACY, "flag:legacy"),
    Mode.SHADOW: Decision(Target.LEGACY, "flag:shadow"),
}


def bucket_of(user_key: str) -> int:
    """The user's stable bucket in ``0..99``; the same on every replica and every restart."""
    digest = hashlib.sha256(user_key.encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def _email_domain(email: str | None) -> str | None:
    if email is None or "@" not in email:
        return None
    return email.rsplit("@", 1)[1].lower()


def decide(flag: RouteFlag, kill_switch: bool, facts: RequestFacts) -> Decision:
    """Where this request goes, and the reason shown in ``X-Strangler-Reason``."""
    if kill_switch:
        return Decision(Target.LEGACY, "kill-switch")
    if facts.forced_target is not None:
        return Decision(facts.forced_target, "targeting:header")
    if facts.user_id is not None and facts.user_id in flag.force_new_user_ids:
        return Decision(Target.NEW, "targeting:user")
    domain = _email_domain(facts.email)
    if domain is not None and domain in flag.force_new_email_domains:
        return Decision(Target.NEW, "targeting:email-domain")
    if flag.mode is Mode.NEW:
        return Decision(Target.NEW, "flag:new")
    if flag.mode is Mode.CANARY:
        bucket = bucket_of(facts.user_key)
        target = Target.NEW if bucket < flag.percent else Target.LEGACY
        return Decision(target, f"flag:canary-bucket-{bucket}")
    return _BY_MODE.get(flag.mode) or Decision(Target.LEGACY, f"flag:{flag.mode.value}")
