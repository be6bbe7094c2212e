"""A user account: who someone is (an e-mail address), how they prove it (a password hash),
and since when the tokens issued to them count.

Rules:

- the address is stored as written (``email``) and compared by its key (``email_key``,
  ``strangler_identity``): two addresses with one key are one account;
- ``password_changed_at`` moves on every password change (not on a hash upgrade, which
  keeps the password): a token issued before it is refused;
- a hash in an older scheme is replaced by the current scheme's hash of the same password on
  the next successful login; it is the same password, so no token is revoked;
- a closed account is erased, not deleted: its address, name and password hash become
  placeholders (the same on every side) and every token issued before is refused.
"""

from __future__ import annotations

from datetime import datetime

from auth_service.domain.records import AUTH, FIRST_VERSION, Record

__all__ = ["User"]


class User(Record):
    def __init__(
        self,
        *,
        id: str,
        email: str,
        email_key: str,
        name: str,
        password_hash: str,
        now: datetime,
    ) -> None:
        self.id = id
        self.email = email
        self.email_key = email_key
        self.name = name
        self.password_hash = password_hash
        self.password_changed_at = now
        self.created_at = now
        self.updated_at = now
        self.origin = AUTH
        self.version = FIRST_VERSION

    def change_password(self, password_hash: str, now: datetime) -> None:
        """A new password: every token issued before ``now`` stops counting."""
        self.password_hash = password_hash
        self.password_changed_at = now
        self.updated_at = now

    def upgrade_password_hash(self, password_hash: str, now: datetime) -> None:
        """The same password under the current scheme; tokens keep counting."""
        self.password_hash = password_hash
        self.updated_at = now

    def rename(self, name: str, now: datetime) -> None:
        """How the account is shown; the same name again changes nothing."""
        if name != self.name:
            self.name = name
            self.updated_at = now

    def erase(self, *, email: str, name: str, password_hash: str, now: datetime) -> None:
        """Closed: the address (also its key), the name and the password hash replaced by
        placeholders; every token issued before ``now`` stops counting."""
        self.email = self.email_key = email
        self.name = name
        self.password_hash = password_hash
        self.password_changed_at = now
        self.updated_at = now

    def accepts_token_issued_at(self, issued_at: datetime) -> bool:
        """The monolith's rule: a token issued before the last password change is refused."""
        return issued_at >= self.password_changed_at
