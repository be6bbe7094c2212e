"""Demo data: the plan catalogue and a handful of users with subscriptions and invoices.

Some demo users carry a password hash in an older scheme, PBKDF2-SHA256 (``pbkdf2_sha256$…``,
Django's encoding), as accounts created before the monolith moved to argon2 would: both
sides accept it at login (``strangler_identity.PasswordHashing``), the data migration moves
it to auth as it is, and auth replaces it with argon2id at the user's next login there.

Idempotent: plans are upserted, users that already exist are left alone. Seeding writes rows
directly and sends no e-mail. Each demo user it creates is announced as a registration is —
``UserRegistered`` and the whole record (``UserAccountChanged``) recorded in the outbox in
the transaction that inserts the user, from the monolith, marked as mailed by it
(``mail_sent_by="legacy"``: no welcome goes out) — so every service that keeps its own copy
of the users (notifications' recipients, billing's customers, auth) knows them, and their
later mails (a password change, a closure) go out wherever mail is sent from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from strangler_identity import parse_email_address

from legacy_monolith import events
from legacy_monolith.billing.periods import next_period_end
from legacy_monolith.database import SessionFactory, utcnow
from legacy_monolith.models import Invoice, Payment, Plan, Subscription, User, new_id

__all__ = [
    "DEMO_OLDER_PASSWORD_HASH",
    "DEMO_PASSWORD",
    "DEMO_PASSWORD_HASH",
    "PLANS",
    "DemoUser",
    "seed",
]

DEMO_PASSWORD = "demo-password"  # noqa: S105  (published demo credentials)
DEMO_PASSWORD_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$"  # noqa: S105  (the published demo password, hashed)
    "CvYMkhg2YHSy/gOfC9h9mA$LgOOjyprtcHE8gpWWgiYuGXb0aqeieJsp/UTCf1yXRk"
)
"""``DEMO_PASSWORD`` hashed once, here: each argon2 hash costs ~0.1-0.2 CPU-s and 64 MiB by design,
and the seed runs on every start, so a fresh system would pay it once per demo user."""
DEMO_OLDER_PASSWORD_HASH = (
    "pbkdf2_sha256$600000$strangler-fig-demo$"  # noqa: S105  (the demo password, older scheme)
    "tUuc39SHVyN1yZuK3RtePVZHwuBHbIqJtQjZQQ7hIko="
)
"""``DEMO_PASSWORD`` as ``strangler_identity.pbkdf2_sha256_hash`` makes it (600 000 rounds)."""

PLANS = (
    Plan(
        id="starter", name="Starter", price_cents=900, currency="eur", interval="month", active=True
    ),
    Plan(id="pro", name="Pro", price_cents=2900, currency="eur", interval="month", active=True),
    Plan(
        id="business",
        name="Business",
        price_cents=9900,
        currency="eur",
        interval="month",
        active=True,
    ),
)


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    plan_id: str | None
    invoice_status: str | None
    subscription_status: str = "active"
    older_hash: bool = False
    """The password hash is PBKDF2-SHA256, from before argon2."""

    @property
    def password_hash(self) -> str:
        return DEMO_OLDER_PASSWORD_HASH if self.older_hash else DEMO_PASSWORD_HASH


DEMO_USERS = (
    DemoUser("alice@example.com", "Alice Archer", "pro", "paid"),
    DemoUser("bob@example.com", "Bob Builder", "starter", "open"),
    DemoUser("carol@example.com", "Carol Chen", "business", "void", "cancelled", older_hash=True),
    DemoUser("dave@example.com", "Dave Dias", None, None, older_hash=True),
)


async def seed(sessions: SessionFactory) -> tuple[int, int]:
    """Insert what is missing; returns (plans upserted, users created)."""
    created = 0
    async with sessions() as session, session.begin():
        for plan in PLANS:
            await session.merge(
                Plan(
                    id=plan.id,
                    name=plan.name,
                    price_cents=plan.price_cents,
                    currency=plan.currency,
                    interval=plan.interval,
                    active=True,
                )
            )
    for demo in DEMO_USERS:
        async with sessions() as session, session.begin():
            address = parse_email_address(demo.email)
            if await session.scalar(select(User.id).where(User.email_key == address.key)):
                continue
            created += 1
            joined = utcnow() - timedelta(days=20)
            user = User(
                id=new_id(),
                email=address.address,
                email_key=address.key,
                name=demo.name,
                password_hash=demo.password_hash,
                password_changed_at=joined,
                created_at=joined,
            )
            session.add(user)
            await session.flush()
            registered = events.user_registered(user)
            await events.record(session, registered.model_copy(update={"mail_sent_by": "legacy"}))
            await events.record(session, events.account_changed(user, "registered"))
            if demo.plan_id is None or demo.invoice_status is None:
                continue
            plan = await session.get_one(Plan, demo.plan_id)
            subscription = Subscription(
                id=new_id(),
                user_id=user.id,
                plan_id=plan.id,
                status=demo.subscription_status,
                current_period_start=joined,
                current_period_end=next_period_end(joined),
                created_at=joined,
                cancelled_at=joined + timedelta(days=3)
                if demo.subscription_status == "cancelled"
                else None,
            )
            invoice = Invoice(
                id=new_id(),
                subscription_id=subscription.id,
                user_id=user.id,
                amount_cents=plan.price_cents,
                amount_refunded_cents=0,
                currency=plan.currency,
                period_start=subscription.current_period_start,
                period_end=subscription.current_period_end,
                status=demo.invoice_status,
                issued_at=joined,
                paid_at=joined + timedelta(hours=1) if demo.invoice_status == "paid" else None,
            )
            session.add(subscription)
            await session.flush()
            session.add(invoice)
            await session.flush()
            if demo.invoice_status == "paid":
                session.add(
                    Payment(
                        id=new_id(),
                        invoice_id=invoice.id,
                        user_id=user.id,
                        idempotency_key=f"seed-{invoice.id}",
                        amount_cents=plan.price_cents,
                        currency=plan.currency,
                        card_last4="4242",
                        status="succeeded",
                        provider_charge_id=f"ch_seed_{invoice.id[:8]}",
                        created_at=joined + timedelta(hours=1),
                        completed_at=joined + timedelta(hours=1),
                    )
                )
    return len(PLANS), created
