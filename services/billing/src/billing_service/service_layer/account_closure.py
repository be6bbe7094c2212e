"""Billing's part in closing an account: one participant of a choreography nobody orchestrates.

Auth publishes ``AccountClosureRequested``; billing hears it and, on its own, cancels the
customer's subscription and gives back the unused part of the period they paid for, then
says how that went — ``BillingClosedForAccount``, or ``AccountClosureRefundDeclined`` when
the provider refuses the refund (the closure pauses there: the subscription stays cancelled,
the user is told, auth keeps the account). Notifications and auth react to that outcome.

Inside billing the part is a short orchestrated saga of its own (``strangler_sagas``), so a
billing process stopped half-way resumes it where it was::

    find-what-to-settle ──▶ cancel-subscription ──▶ refund-unused-part ──▶ announce-outcome
    (read only: what        (if still active)       (idempotency key of     (to the outbox)
     is left of the paid                             the closure)
     period when asked)

A closure the user resumed after a declined refund (``AccountClosureRequested`` with
``attempt`` 2 or more) is a saga of its own (key ``<closure id>/attempt-<n>``): it settles
the subscription the first attempt cancelled, and refunds under a key of its own
(``account-closure-<id>-<n>``), unless an earlier attempt's refund went through after all.

Nothing here can be undone, and nothing has to: a closure only goes forward, so no step
has a compensation. Each step is idempotent: the refund is computed once, from the moment
the user asked (``requested_at``), not from when a retry runs; a cancelled subscription
is left cancelled; the refund goes through ``refund_invoice`` under the key
``account-closure-<closure id>``, which the provider applies once. Only the announcement can
repeat (a crash after its commit, before the saga records it): participants apply outcomes
by closure id, so a second copy changes nothing.

Every event billing writes for a closure — ``SubscriptionCancelled``, ``RefundIssued``, the
outcome — carries the closure id as its correlation id, which is how the choreography view
(``strangler sagas``) puts the closure together from the log.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

from strangler_eventing.correlation import use_correlation_id
from strangler_sagas import RetryPolicy, SagaDefinition, SagaOrchestrator, Started, Step
from strangler_sagas import StepContext as Context

from billing_service.domain.commands import CancelSubscription, RefundInvoice
from billing_service.domain.errors import (
    InvoiceNotRefundable,
    RefundExceedsPayment,
    RefundRejected,
    SubscriptionNotActive,
)
from billing_service.domain.events import (
    AccountClosureRefundDeclined,
    BillingClosedForAccount,
    DomainEvent,
)
from billing_service.domain.invoices import Invoice
from billing_service.domain.periods import unused_part_cents
from billing_service.domain.subscriptions import Subscription
from billing_service.service_layer.handlers import Clock, cancel_subscription, refund_invoice
from billing_service.service_layer.payment_provider import PaymentProvider
from billing_service.service_layer.unit_of_work import UnitOfWork, UnitOfWorkFactory

__all__ = [
    "ACCOUNT_CLOSURE",
    "ClosureAnnouncer",
    "ClosurePolicy",
    "ClosureSteps",
    "SubscriptionStillCheckingOut",
    "account_closure_saga",
    "start_account_closure",
]

ACCOUNT_CLOSURE: Final = "account-closure"
LOCAL_STEP_TIMEOUT_SECONDS: Final = 15.0
LOCAL_STEP_ATTEMPTS: Final = 8
REFUND_REASON: Final = "account closed: the unused part of the period"
_INVOICES_LOOKED_AT: Final = 50


class ClosureAnnouncer(Protocol):
    """Publishes billing's outcome of a closure (the outbox, in the real service)."""

    async def announce(self, event: DomainEvent, *, correlation_id: str) -> None: ...


class SubscriptionStillCheckingOut(Exception):
    """The customer's subscription is pending: its checkout decides it first (transient)."""


@dataclass(frozen=True)
class ClosurePolicy:
    """How long one refund may take at the provider, and how often a step is tried."""

    refund_timeout: timedelta
    refund_attempts: int = 5
    first_retry_seconds: float = 1.0


@dataclass(frozen=True)
class _Closure:
    """What billing's part of a closure is about, as its saga's data holds it."""

    closure_id: str
    customer_id: str
    requested_at: datetime
    attempt: int = 1

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> _Closure:
        return cls(
            closure_id=data["closure_id"],
            customer_id=data["customer_id"],
            requested_at=datetime.fromisoformat(data["requested_at"]),
            attempt=int(data.get("attempt", 1)),
        )

    @property
    def refund_key(self) -> str:
        return self.refund_key_of(self.attempt)

    def refund_key_of(self, attempt: int) -> str:
        suffix = "" if attempt == 1 else f"-{attempt}"
        return f"account-closure-{self.closure_id}{suffix}"


async def start_account_closure(
    sagas: SagaOrchestrator,
    *,
    closure_id: str,
    customer_id: str,
    requested_at: datetime,
    attempt: int = 1,
) -> Started:
    """Start billing's part of closure ``closure_id`` (its ``attempt``), once: a request heard
    again (a redelivery, a replay after the broker lost its log) answers the part already
    started."""
    data = {
        "closure_id": closure_id,
        "customer_id": customer_id,
        "requested_at": requested_at.isoformat(),
        "attempt": attempt,
    }
    key = closure_id if attempt == 1 else f"{closure_id}/attempt-{attempt}"
    return await sagas.start(ACCOUNT_CLOSURE, data, idempotency_key=key)


Action = Callable[[Context], Awaitable[Mapping[str, Any] | None]]


def _correlated(action: Action) -> Action:
    """Run ``action`` with the closure id as correlation id: every event it writes says so."""

    async def run(context: Context) -> Mapping[str, Any] | None:
        use_correlation_id(context.data["closure_id"])
        return await action(context)

    return run


class ClosureSteps:
    """The actions of billing's part, bound to billing's units of work and provider."""

    def __init__(
        self,
        unit_of_work: UnitOfWorkFactory,
        payments: PaymentProvider,
        clock: Clock,
        announcer: ClosureAnnouncer,
    ) -> None:
        self._uows = unit_of_work
        self._payments = payments
        self._clock = clock
        self._announcer = announcer

    async def find_what_to_settle(self, context: Context) -> Mapping[str, Any]:
        """The subscription to cancel and what to refund of its paid period, as it stood
        when the user asked. Reads only."""
        closure = _Closure.of(context.data)
        async with self._uows() as uow:
            subscription = await uow.subscriptions.active_for(closure.customer_id)
            if subscription is None and closure.attempt > 1:
                subscription = await _cancelled_for(uow, closure)
            if subscription is None:
                return _nothing_to_settle()
            if subscription.status == "pending":
                raise SubscriptionStillCheckingOut(subscription.id)
            invoice = await _paid_invoice_of_current_period(uow, subscription)
        if invoice is None:
            return {**_nothing_to_settle(), "subscription_id": subscription.id}
        unused = unused_part_cents(
            invoice.amount_cents, invoice.period_start, invoice.period_end, closure.requested_at
        )
        return {
            "subscription_id": subscription.id,
            "invoice_id": invoice.id,
            "refund_cents": min(unused, invoice.refundable_cents),
            "currency": invoice.currency,
        }

    async def cancel_subscription(self, context: Context) -> None:
        closure, subscription_id = _Closure.of(context.data), context.data["subscription_id"]
        if subscription_id is None:
            return
        command = CancelSubscription(closure.customer_id, subscription_id)
        # Cancelled already (by an attempt before this one, or by the user): nothing to do.
        with suppress(SubscriptionNotActive):
            await cancel_subscription(command, self._uows(), self._clock)

    async def refund_unused_part(self, context: Context) -> Mapping[str, Any]:
        """Refund what was computed, under the closure's key; a declined refund is an
        outcome to announce, not a failure to retry."""
        closure, data = _Closure.of(context.data), context.data
        if not data["refund_cents"]:
            return {"refund_id": None, "refunded_cents": 0}
        async with self._uows() as uow:  # a resumed closure: an earlier refund went through?
            for earlier in range(1, closure.attempt):
                key = closure.refund_key_of(earlier)
                made = await uow.refunds.by_key(data["invoice_id"], key)
                if made is not None:
                    return {"refund_id": made.id, "refunded_cents": made.amount_cents}
        command = RefundInvoice(
            customer_id=closure.customer_id,
            invoice_id=data["invoice_id"],
            amount_cents=data["refund_cents"],
            reason=REFUND_REASON,
            idempotency_key=closure.refund_key,
        )
        try:
            outcome = await refund_invoice(command, self._uows, self._payments, self._clock)
        except RefundRejected as declined:
            return {"refund_declined": declined.detail}
        except (InvoiceNotRefundable, RefundExceedsPayment):
            # Refunded meanwhile by other means: what is left to give back is not ours.
            return {"refund_id": None, "refunded_cents": 0}
        return {"refund_id": outcome.refund.id, "refunded_cents": outcome.refund.amount_cents}

    async def announce_outcome(self, context: Context) -> None:
        closure, data = _Closure.of(context.data), context.data
        now = self._clock()
        event: DomainEvent
        if data.get("refund_declined"):
            event = AccountClosureRefundDeclined(
                closure_id=closure.closure_id,
                customer_id=closure.customer_id,
                subscription_id=data["subscription_id"],
                invoice_id=data["invoice_id"],
                amount_cents=data["refund_cents"],
                currency=data["currency"],
                reason=data["refund_declined"],
                declined_at=now,
            )
        else:
            event = BillingClosedForAccount(
                closure_id=closure.closure_id,
                customer_id=closure.customer_id,
                cancelled_subscription_id=data["subscription_id"],
                refund_id=data["refund_id"],
                refunded_cents=data["refunded_cents"],
                currency=data["currency"] if data["refunded_cents"] else None,
                closed_at=now,
            )
        await self._announcer.announce(event, correlation_id=closure.closure_id)


async def _cancelled_for(uow: UnitOfWork, closure: _Closure) -> Subscription | None:
    """The subscription an earlier attempt of ``closure`` cancelled (a resumed closure)."""
    subscriptions, _ = await uow.subscriptions.of_customer(
        closure.customer_id, _INVOICES_LOOKED_AT, 0
    )
    return next(
        (
            subscription
            for subscription in subscriptions
            if subscription.status == "cancelled"
            and subscription.cancelled_at is not None
            and subscription.cancelled_at >= closure.requested_at
        ),
        None,
    )


def _nothing_to_settle() -> dict[str, Any]:
    return {"subscription_id": None, "invoice_id": None, "refund_cents": 0, "currency": None}


async def _paid_invoice_of_current_period(
    uow: UnitOfWork, subscription: Subscription
) -> Invoice | None:
    invoices, _ = await uow.invoices.of_customer(subscription.customer_id, _INVOICES_LOOKED_AT, 0)
    return next(
        (
            invoice
            for invoice in invoices
            if invoice.subscription_id == subscription.id
            and invoice.period_start == subscription.current_period_start
            and invoice.is_paid
        ),
        None,
    )


def account_closure_saga(steps: ClosureSteps, policy: ClosurePolicy) -> SagaDefinition:
    """Billing's part of a closure, declared: four steps forward, none to undo."""
    backoff = {"initial_delay_seconds": policy.first_retry_seconds, "max_delay_seconds": 30.0}
    local = RetryPolicy(max_attempts=LOCAL_STEP_ATTEMPTS, **backoff)
    refunding = RetryPolicy(max_attempts=policy.refund_attempts, **backoff)
    refund_seconds = policy.refund_timeout.total_seconds() + LOCAL_STEP_TIMEOUT_SECONDS
    return SagaDefinition(
        ACCOUNT_CLOSURE,
        (
            Step(
                "find-what-to-settle",
                _correlated(steps.find_what_to_settle),
                None,
                timeout_seconds=LOCAL_STEP_TIMEOUT_SECONDS,
                retry=local,
            ),
            Step(
                "cancel-subscription",
                _correlated(steps.cancel_subscription),
                None,
                timeout_seconds=LOCAL_STEP_TIMEOUT_SECONDS,
                retry=local,
            ),
            Step(
                "refund-unused-part",
                _correlated(steps.refund_unused_part),
                None,
                timeout_seconds=refund_seconds,
                retry=refunding,
            ),
            Step(
                "announce-outcome",
                _correlated(steps.announce_outcome),
                None,
                timeout_seconds=LOCAL_STEP_TIMEOUT_SECONDS,
                retry=local,
            ),
        ),
    )
