"""A customer's subscription to a plan, billed monthly. One active subscription per customer.

::

    (subscribe) ──▶ active ──cancel──▶ cancelled
    (checkout)  ──▶ pending ──activate (first invoice paid)──▶ active
                       └──abandon (the checkout failed)──▶ cancelled

A pending subscription blocks another one like an active one does: a customer has one
subscription at a time, whether its checkout is still running or not.

A subscription and its invoices are separate aggregates, each consistent on its own: this
module knows invoices only by id. When ending a subscription voids its open invoices, or
its first paid invoice activates it, the service layer loads both and changes each through
its own methods, in one unit of work.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from billing_service.domain.errors import (
    AlreadySubscribed,
    SubscriptionNotActive,
    SubscriptionNotPending,
    UnknownPlan,
)
from billing_service.domain.events import (
    SubscriptionActivated,
    SubscriptionCancelled,
    SubscriptionStarted,
)
from billing_service.domain.periods import next_period_end
from billing_service.domain.records import BILLING, FIRST_VERSION, Aggregate

if TYPE_CHECKING:
    from billing_service.domain.customers import Customer
    from billing_service.domain.plans import Plan

__all__ = ["Subscription", "SubscriptionStatus"]

SubscriptionStatus = Literal["pending", "active", "cancelled"]


class Subscription(Aggregate):
    customer_id: str
    plan_id: str
    status: SubscriptionStatus
    current_period_start: datetime
    current_period_end: datetime
    created_at: datetime
    cancelled_at: datetime | None

    def __init__(
        self,
        *,
        id: str,
        customer_id: str,
        plan_id: str,
        current_period_start: datetime,
        current_period_end: datetime,
        created_at: datetime,
        status: SubscriptionStatus = "active",
        cancelled_at: datetime | None = None,
        origin: str = BILLING,
    ) -> None:
        self.id = id
        self.customer_id = customer_id
        self.plan_id = plan_id
        self.status = status
        self.current_period_start = current_period_start
        self.current_period_end = current_period_end
        self.created_at = created_at
        self.cancelled_at = cancelled_at
        self.origin = origin
        self.version = FIRST_VERSION
        self.events = []

    @classmethod
    def start(
        cls,
        *,
        id: str,
        customer: Customer,
        plan: Plan,
        active: Subscription | None,
        now: datetime,
        pending: bool = False,
    ) -> Subscription:
        """Subscribe ``customer`` to ``plan`` from ``now``; ``active`` is their current one
        (active or pending). ``pending``: a checkout starts it, and activates it once paid."""
        if not plan.active:
            raise UnknownPlan(plan.id)
        if active is not None:
            raise AlreadySubscribed(active.id, active.plan_id)
        subscription = cls(
            id=id,
            customer_id=customer.id,
            plan_id=plan.id,
            current_period_start=now,
            current_period_end=next_period_end(now),
            created_at=now,
            status="pending" if pending else "active",
        )
        subscription.record(
            SubscriptionStarted(
                subscription_id=subscription.id,
                customer_id=subscription.customer_id,
                plan_id=subscription.plan_id,
                period_start=subscription.current_period_start,
                period_end=subscription.current_period_end,
                started_at=subscription.created_at,
            )
        )
        return subscription

    @property
    def is_active(self) -> bool:
        return self.status == "active"

    @property
    def is_cancelled(self) -> bool:
        return self.status == "cancelled"

    def cancel(self, now: datetime, *, voiding: Sequence[str]) -> None:
        """End it now; ``voiding`` names its invoices still open, which end with it (an
        invoice being paid is not one of them)."""
        if not self.is_active:
            raise SubscriptionNotActive(self.id, self.status)
        self.status = "cancelled"
        self.cancelled_at = now
        self.record(
            SubscriptionCancelled(
                subscription_id=self.id,
                customer_id=self.customer_id,
                cancelled_at=now,
                voided_invoice_ids=tuple(sorted(voiding)),
            )
        )

    def activate(self, now: datetime, *, paid_invoice_id: str) -> None:
        """The checkout paid its first invoice, ``paid_invoice_id``: the pending subscription
        is active. Activating it again changes nothing."""
        if self.status == "active":
            return
        if self.status != "pending":
            raise SubscriptionNotPending(self.id, self.status)
        self.status = "active"
        self.record(
            SubscriptionActivated(
                subscription_id=self.id,
                customer_id=self.customer_id,
                plan_id=self.plan_id,
                invoice_id=paid_invoice_id,
                activated_at=now,
            )
        )

    def abandon(self, now: datetime, *, voided: Sequence[str]) -> None:
        """The checkout that started it failed: cancel the pending subscription. Abandoning
        it again changes nothing.

        ``voided`` names every invoice of it that is void, those the checkout voided before
        as well, so that whoever follows the events voids them too.
        """
        if self.status == "cancelled":
            return
        if self.status != "pending":
            raise SubscriptionNotPending(self.id, self.status)
        self.status = "cancelled"
        self.cancelled_at = now
        self.record(
            SubscriptionCancelled(
                subscription_id=self.id,
                customer_id=self.customer_id,
                cancelled_at=now,
                voided_invoice_ids=tuple(sorted(voided)),
            )
        )
