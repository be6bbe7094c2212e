"""A customer: a user of the platform as billing knows them, learnt from their registration."""

from __future__ import annotations

from datetime import datetime

from billing_service.domain.records import FIRST_VERSION, Record

__all__ = ["Customer"]


class Customer(Record):
    """Billing's copy of a registered user; its id is the user's id.

    Billing never asks the accounts side for it: the customer exists once billing has
    received the ``UserRegistered`` event, and follows the user's name by
    ``UserProfileChanged``.
    """

    def __init__(
        self, *, id: str, email: str, name: str, registered_at: datetime, origin: str
    ) -> None:
        self.id = id
        self.email = email
        self.name = name
        self.registered_at = registered_at
        self.origin = origin
        self.version = FIRST_VERSION

    def forget_email(self, placeholder: str) -> bool:
        """The account is closed: its address is replaced by ``placeholder``; whether it
        changed."""
        if self.email == placeholder:
            return False
        self.email = placeholder
        return True

    def rename(self, name: str) -> bool:
        """The name the user now goes by; whether it changed."""
        if name == self.name:
            return False
        self.name = name
        return True
