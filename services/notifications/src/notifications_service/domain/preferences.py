"""Which e-mail categories a user receives. A user who never chose receives both."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from notifications_service.domain.templates import Category

__all__ = ["Preferences"]


@dataclass
class Preferences:
    user_id: str
    account_emails: bool
    billing_emails: bool
    updated_at: datetime

    @classmethod
    def defaults(cls, user_id: str, now: datetime) -> Preferences:
        return cls(user_id, account_emails=True, billing_emails=True, updated_at=now)

    def allows(self, category: Category) -> bool:
        return self.account_emails if category is Category.ACCOUNT else self.billing_emails
