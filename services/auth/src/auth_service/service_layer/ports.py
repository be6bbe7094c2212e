"""What the service layer needs from the outside world, as protocols the adapters implement
(and unit tests fake)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from auth_service.domain.users import User

__all__ = ["AccessTokens", "Clock", "IssuedAccessToken", "PasswordHashing"]

Clock = Callable[[], datetime]


class PasswordHashing(Protocol):
    def hash(self, password: str) -> str:
        """The current scheme's hash (argon2id)."""
        ...

    def verify(self, password_hash: str, password: str) -> bool:
        """Whether ``password`` matches ``password_hash`` in any accepted scheme."""
        ...

    def verify_nobody(self, password: str) -> None:
        """The work of a verification, against no account: an unknown address costs what a
        wrong password does, so the answer's timing does not tell them apart."""
        ...

    def needs_upgrade(self, password_hash: str) -> bool:
        """Whether the hash is in an older scheme or weaker parameters than the current."""
        ...


@dataclass(frozen=True)
class IssuedAccessToken:
    token: str
    token_id: str
    expires_in: int


class AccessTokens(Protocol):
    async def issue(self, user: User, now: datetime) -> IssuedAccessToken:
        """An access token for ``user``, signed by the current key."""
        ...
