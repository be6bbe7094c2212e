"""Everything a request needs that outlives it, built once per app by ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from legacy_monolith.billing.payment_provider import PaymentProvider
from legacy_monolith.database import SessionFactory
from legacy_monolith.notifications.mailer import Mailer
from legacy_monolith.security import PasswordHashing, TokenIssuer
from legacy_monolith.settings import MonolithSettings

__all__ = ["Runtime"]


@dataclass
class Runtime:
    settings: MonolithSettings
    engine: AsyncEngine
    sessions: SessionFactory
    tokens: TokenIssuer
    passwords: PasswordHashing
    payments: PaymentProvider
    mailer: Mailer
