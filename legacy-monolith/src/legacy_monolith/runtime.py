"""Everything the monolith's requests and background loops use, built once per app by
``bootstrap.build_runtime`` and held by the app while it runs."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine
from strangler_flags import GatewayFlagPoller
from strangler_identity import PasswordHashing
from strangler_migration import SqlRecords, SyncConsumer

from legacy_monolith.auth_bridge import AuthBridge
from legacy_monolith.billing.payment_provider import PaymentProvider
from legacy_monolith.database import SessionFactory
from legacy_monolith.notifications.mail_flag import MailFlag
from legacy_monolith.notifications.mailer import Mailer
from legacy_monolith.security import TokenIssuer
from legacy_monolith.settings import MonolithSettings

__all__ = ["Runtime"]


@dataclass
class Runtime:
    settings: MonolithSettings
    engine: AsyncEngine
    sessions: SessionFactory
    tokens: TokenIssuer
    auth_bridge: AuthBridge
    """Who a bearer token names, from the monolith or the auth service (the session bridge)."""
    passwords: PasswordHashing
    payments: PaymentProvider
    mailer: Mailer
    billing_records: SqlRecords
    """Billing's records as the monolith holds them (``/internal/billing``)."""
    auth_records: SqlRecords
    """Account records as the monolith holds them (``/internal/auth``)."""
    notification_records: SqlRecords
    """Mails and preferences as the monolith holds them (``/internal/notifications``)."""
    billing_sync: SyncConsumer | None = None
    """The billing ACL applying the billing service's changes; None when it is off."""
    auth_sync: SyncConsumer | None = None
    """The auth ACL applying the auth service's account changes; None when it is off."""
    notifications_sync: SyncConsumer | None = None
    """The notifications ACL applying the service's mails and preferences; None when off."""
    mail_flag: MailFlag = field(default_factory=MailFlag)
    """Who sends the mails: the monolith inline, or the notifications service from events."""
    mail_flag_poller: GatewayFlagPoller | None = None
    """Follows the gateway's flags for ``mail_flag`` (the ``mail-flag`` loop); None: the
    monolith sends every mail itself."""

    async def aclose(self) -> None:
        await self.payments.aclose()
        await self.auth_bridge.aclose()
        await self.engine.dispose()
