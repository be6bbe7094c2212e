"""Notifications as provider states need it: a user's choice of e-mails, made through its own
API (``PUT /api/notifications/preferences``) with a token the monolith's issuer signs."""

from __future__ import annotations

import httpx
from legacy_monolith.security import TokenIssuer

from tests.contracts.providers.monolith_state import JWT_SECRET

__all__ = ["choose_emails"]


def choose_emails(notifications_url: str, user_id: str, email: str) -> None:
    """``user_id`` wants account e-mails and no billing e-mails."""
    token = TokenIssuer(JWT_SECRET, "legacy-monolith", 3600).issue(user_id, email)
    chosen = httpx.put(
        f"{notifications_url}/api/notifications/preferences",
        json={"account_emails": True, "billing_emails": False},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    assert chosen.status_code == 200, chosen.text
