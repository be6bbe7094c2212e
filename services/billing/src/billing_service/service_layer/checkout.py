"""The checkout saga: subscribe to a plan and pay its first invoice — all of it, or none of it.

::

    start-subscription ──▶ issue-invoice ──▶ charge-card ──▶ activate-subscription
      (pending)              (open)            (one idempotency key per checkout)
      undo: cancel it        undo: void it     undo: find out what the provider did
                                                     under the key; refund it if it charged

Each step is a short unit of work of its own, and ``strangler_sagas`` records its outcome
before the next one runs, so a billing process killed mid-checkout loses nothing: the next
one resumes the saga at the step it was in. Every step may therefore run twice, and is
idempotent: the subscription's and the invoice's ids are chosen when the checkout starts, and
the charge goes through ``pay_invoice`` under the checkout's own key
(``checkout-<saga id>``), so a retried or resumed charge finds the same payment and asks the
provider again under the same provider key — the provider answers the first outcome and never
charges twice.

A declined card is a business failure: the invoice is voided and the subscription cancelled
(the charge itself needs no undoing). A charge that keeps timing out is not: the provider may
have taken the money after we stopped waiting. Once its retries are used up the charge's own
compensation asks the provider again under the same key, with a timeout long enough to hear
its own answer, and refunds the money if the charge went through; only then are the invoice
voided and the subscription cancelled.

What other services hear, through the outbox: ``SubscriptionStarted`` and ``InvoiceIssued``
as they happen, then ``PaymentSucceeded`` and ``SubscriptionActivated``; or, when the
checkout fails, ``PaymentFailed`` (a declined card, or a provider that timed out and charged
nothing) or ``PaymentSucceeded`` + ``RefundIssued`` (it charged after all), and
``SubscriptionCancelled`` naming the voided invoice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from strangler_sagas import (
    BusinessFailure,
    RetryPolicy,
    SagaDefinition,
    SagaOrchestrator,
    SagaView,
    Step,
    StepContext,
)

from billing_service.domain.commands import Checkout, PayInvoice, RefundInvoice
from billing_service.domain.errors import (
    AlreadySubscribed,
    CardWasDeclined,
    CheckoutKeyReused,
    CheckoutNotFound,
    CustomerUnknown,
    InvoiceAlreadyPaid,
    InvoiceNotPaid,
    InvoiceNotPayable,
    PaymentProviderTimedOut,
    SubscriptionNotPending,
    UnknownPlan,
)
from billing_service.domain.ids import new_id
from billing_service.domain.subscriptions import Subscription
from billing_service.service_layer.handlers import (
    Clock,
    PaymentPolicy,
    invoice_for_current_period,
    pay_invoice,
    refund_invoice,
)
from billing_service.service_layer.payment_provider import PaymentProvider
from billing_service.service_layer.unit_of_work import (
    JoinedUnitOfWorkFactory,
    UnitOfWork,
    UnitOfWorkFactory,
)

__all__ = [
    "CHECKOUT",
    "CheckoutPolicy",
    "CheckoutStanding",
    "CheckoutStandingReader",
    "CheckoutStarted",
    "CheckoutSteps",
    "checkout_of",
    "checkout_saga",
    "standing_in",
    "start_checkout",
]

CHECKOUT: Final = "checkout"
TIMED_OUT_CODE: Final = "provider_timeout"
LOCAL_STEP_TIMEOUT_SECONDS: Final = 15.0
LOCAL_STEP_ATTEMPTS: Final = 5


@dataclass(frozen=True)
class CheckoutPolicy:
    """How long a charge may take, and how often each kind of step is tried.

    ``provider_timeout`` bounds one call to the provider; ``refund_timeout`` the refund a
    compensation may add to it.
    """

    provider_timeout: timedelta
    refund_timeout: timedelta
    charge_attempts: int = 3
    compensation_attempts: int = 10
    first_retry_seconds: float = 1.0

    @property
    def charge_step_timeout_seconds(self) -> float:
        """One attempt of the charge or of its undoing: a charge, maybe a refund, the writes."""
        provider = self.provider_timeout + self.refund_timeout
        return provider.total_seconds() + LOCAL_STEP_TIMEOUT_SECONDS


@dataclass(frozen=True)
class CheckoutStarted:
    checkout: SagaView
    replayed: bool


@dataclass(frozen=True)
class _Order:
    """What a checkout is about, as its saga's data holds it."""

    customer_id: str
    plan_id: str
    card_number: str
    subscription_id: str
    invoice_id: str
    payment_key: str

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> _Order:
        return cls(
            customer_id=data["customer_id"],
            plan_id=data["plan_id"],
            card_number=data["card_number"],
            subscription_id=data["subscription_id"],
            invoice_id=data["invoice_id"],
            payment_key=data["payment_key"],
        )

    def payment(self) -> PayInvoice:
        return PayInvoice(self.customer_id, self.invoice_id, self.card_number, self.payment_key)


def checkout_saga(steps: CheckoutSteps, policy: CheckoutPolicy) -> SagaDefinition:
    """The checkout, declared: each step with what undoes it, its timeout and its retries."""
    backoff = {"initial_delay_seconds": policy.first_retry_seconds, "max_delay_seconds": 30.0}
    local = RetryPolicy(max_attempts=LOCAL_STEP_ATTEMPTS, **backoff)
    charging = RetryPolicy(max_attempts=policy.charge_attempts, **backoff)
    undoing = RetryPolicy(max_attempts=policy.compensation_attempts, **backoff)
    return SagaDefinition(
        CHECKOUT,
        (
            Step(
                "start-subscription",
                steps.start_subscription,
                steps.cancel_subscription,
                timeout_seconds=LOCAL_STEP_TIMEOUT_SECONDS,
                retry=local,
                compensation_retry=undoing,
            ),
            Step(
                "issue-invoice",
                steps.issue_invoice,
                steps.void_invoice,
                timeout_seconds=LOCAL_STEP_TIMEOUT_SECONDS,
                retry=local,
                compensation_retry=undoing,
            ),
            Step(
                "charge-card",
                steps.charge_card,
                steps.settle_and_refund_charge,
                timeout_seconds=policy.charge_step_timeout_seconds,
                retry=charging,
                compensation_retry=undoing,
            ),
            Step(
                "activate-subscription",
                steps.activate_subscription,
                None,
                timeout_seconds=LOCAL_STEP_TIMEOUT_SECONDS,
                retry=local,
            ),
        ),
        sensitive=frozenset({"card_number"}),
    )


class CheckoutSteps:
    """The actions and compensations of the checkout, with billing's dependencies bound.

    ``joined`` makes a unit of work inside the transaction the saga store lends a step
    (``StepContext.transaction``): the local steps write there, and their changes commit
    with the saga's record of them, one commit per step. Without it (or without such a
    transaction) each step is a unit of work of its own. The charge keeps its own: what it
    learns from the provider is recorded whatever the step's outcome.
    """

    def __init__(
        self,
        unit_of_work: UnitOfWorkFactory,
        payments: PaymentProvider,
        clock: Clock,
        policy: CheckoutPolicy,
        joined: JoinedUnitOfWorkFactory | None = None,
    ) -> None:
        self.unit_of_work = unit_of_work
        self.payments = payments
        self.clock = clock
        self.payment_policy = PaymentPolicy(policy.provider_timeout)
        self.joined = joined

    def _local(self, context: StepContext) -> UnitOfWork:
        """The unit of work of a local step: in the step's transaction, where there is one."""
        if context.transaction is not None and self.joined is not None:
            return self.joined(context.transaction)
        return self.unit_of_work()

    async def start_subscription(self, context: StepContext) -> Mapping[str, Any] | None:
        """A pending subscription with the id the checkout chose; there already, it is kept.

        The customer's current subscription is read with the customer and the plan, in one
        read, and it is ours or a rival's: ours is there when an earlier attempt committed it
        and the saga did not record that (only without the step's transaction: with it, the
        two commit as one), and then it is still pending — nothing but this saga moves it on.
        """
        order = _Order.of(context.data)
        async with self._local(context) as uow:
            found = await uow.read(
                customer_id=order.customer_id,
                plan_id=order.plan_id,
                current_subscription_of=order.customer_id,
            )
            current, customer, plan = found.current_subscription, found.customer, found.plan
            if current is not None and current.id == order.subscription_id:
                return None
            if customer is None or plan is None:
                raise BusinessFailure(
                    f"no customer '{order.customer_id}' or plan '{order.plan_id}'"
                )
            try:
                subscription = Subscription.start(
                    id=order.subscription_id,
                    customer=customer,
                    plan=plan,
                    active=current,
                    now=self.clock(),
                    pending=True,
                )
            except (AlreadySubscribed, UnknownPlan) as refused:
                raise BusinessFailure(f"{type(refused).__name__}: {refused}") from refused
            uow.subscriptions.add(subscription)
            await uow.commit()
        return None

    async def cancel_subscription(self, context: StepContext) -> Mapping[str, Any] | None:
        """Cancel the pending subscription, naming its voided invoice; gone or done, nothing."""
        order = _Order.of(context.data)
        async with self._local(context) as uow:
            found = await uow.read(
                subscription_id=order.subscription_id, invoice_id=order.invoice_id
            )
            subscription, invoice = found.subscription, found.invoice
            if subscription is None:
                return None
            if not subscription.is_cancelled:
                ours = [invoice] if invoice and invoice.subscription_id == subscription.id else []
                for each in ours:
                    each.void_for(subscription.id)
                voided = [each.id for each in ours if each.status == "void"]
                subscription.abandon(self.clock(), voided=voided)
            await uow.commit()
        return None

    async def issue_invoice(self, context: StepContext) -> Mapping[str, Any] | None:
        """The first period's invoice, with the id the checkout chose."""
        order = _Order.of(context.data)
        async with self._local(context) as uow:
            found = await uow.read(
                invoice_id=order.invoice_id,
                subscription_id=order.subscription_id,
                plan_id=order.plan_id,
            )
            invoice = found.invoice
            if invoice is None:
                subscription = _ours(found.subscription, order)
                plan = found.plan
                if plan is None:
                    raise BusinessFailure(f"no plan '{order.plan_id}'")
                invoice = invoice_for_current_period(
                    order.invoice_id, subscription, plan, self.clock()
                )
                uow.invoices.add(invoice)
                await uow.commit()
        return {"amount_cents": invoice.amount_cents, "currency": invoice.currency}

    async def void_invoice(self, context: StepContext) -> Mapping[str, Any] | None:
        """Void the unpaid invoice. Refunded already (the charge's compensation gave the money
        back), it stays as the record of that; paid and not refunded, it waits for that."""
        order = _Order.of(context.data)
        async with self._local(context) as uow:
            found = await uow.read(
                invoice_id=order.invoice_id, subscription_id=order.subscription_id
            )
            invoice = found.invoice
            if invoice is None or invoice.status in ("void", "refunded"):
                return None
            if invoice.status != "open":
                raise InvoiceNotPayable(invoice.id, invoice.status)
            invoice.void_for(_ours(found.subscription, order).id)
            await uow.commit()
        return None

    async def charge_card(self, context: StepContext) -> Mapping[str, Any] | None:
        """Pay the invoice under the checkout's key; a decline fails the checkout for good.

        A timeout or an unreachable provider is left to the saga's retries: the next attempt
        asks again under the same key (taking over a payment left pending by a worker that
        died mid-call, which only this saga's holder can be).
        """
        order = _Order.of(context.data)
        try:
            outcome = await pay_invoice(
                order.payment(),
                self.unit_of_work,
                self.payments,
                self.clock,
                self.payment_policy,
                take_over_pending=True,
            )
        except CardWasDeclined as declined:
            raise BusinessFailure(f"card declined ({declined.code})") from declined
        except InvoiceAlreadyPaid:
            return {"paid_elsewhere": True}
        except InvoiceNotPayable as refused:
            raise BusinessFailure(f"invoice is {refused.status}") from refused
        return {
            "payment_id": outcome.payment.id,
            "provider_charge_id": outcome.payment.provider_charge_id,
        }

    async def settle_and_refund_charge(self, context: StepContext) -> Mapping[str, Any] | None:
        """Make sure the checkout keeps no money: find out what the provider did under the
        checkout's key, and refund it if it charged.

        No payment recorded: the provider was never asked. One that failed: nothing was taken.
        One whose outcome is unknown (timed out, or pending since a worker died): ask again
        under the same key — the provider answers the charge it made, a decline, or that its
        network timed out and it charged nothing — and record that answer. Still no answer:
        raise, so the compensation is tried again later.
        """
        order = _Order.of(context.data)
        async with self.unit_of_work() as uow:
            payment = await uow.payments.by_key(order.customer_id, order.payment_key)
        if payment is None or payment.status == "failed":
            return {"charged": False}
        if payment.status != "succeeded":
            try:
                await pay_invoice(
                    order.payment(),
                    self.unit_of_work,
                    self.payments,
                    self.clock,
                    self.payment_policy,
                    take_over_pending=True,
                )
            except CardWasDeclined:
                return {"charged": False}
            except PaymentProviderTimedOut as timed_out:
                if not timed_out.nothing_charged:
                    raise
                await self._record_nothing_charged(order)
                return {"charged": False}
        refund = await refund_invoice(
            RefundInvoice(
                order.customer_id,
                order.invoice_id,
                reason="checkout failed",
                idempotency_key=f"{order.payment_key}-refund",
            ),
            self.unit_of_work,
            self.payments,
            self.clock,
        )
        return {"charged": True, "refund_id": refund.refund.id}

    async def _record_nothing_charged(self, order: _Order) -> None:
        """The provider confirmed it took nothing: the payment failed, and says why."""
        async with self.unit_of_work() as uow:
            payment = await uow.payments.by_key(order.customer_id, order.payment_key)
            invoice = await uow.invoices.get(order.invoice_id)
            if payment is None or invoice is None or payment.status == "failed":
                return
            invoice.decline(
                payment,
                code=TIMED_OUT_CODE,
                message="The payment provider timed out; nothing was charged.",
                at=self.clock(),
            )
            await uow.commit()

    async def activate_subscription(self, context: StepContext) -> Mapping[str, Any] | None:
        """The invoice is paid: the subscription is active, and says so to everyone."""
        order = _Order.of(context.data)
        async with self._local(context) as uow:
            found = await uow.read(
                subscription_id=order.subscription_id, invoice_id=order.invoice_id
            )
            subscription, invoice = _ours(found.subscription, order), found.invoice
            if invoice is None:
                raise BusinessFailure(f"no invoice '{order.invoice_id}'")
            try:
                if invoice.subscription_id != subscription.id or not invoice.is_paid:
                    raise InvoiceNotPaid(invoice.id, invoice.status)
                subscription.activate(self.clock(), paid_invoice_id=invoice.id)
            except (SubscriptionNotPending, InvoiceNotPaid) as refused:
                raise BusinessFailure(str(refused)) from refused
            await uow.commit()
        return None


def _ours(subscription: Subscription | None, order: _Order) -> Subscription:
    """The checkout's subscription, which the first step made: without it, nothing goes on."""
    if subscription is None:
        raise BusinessFailure(f"no subscription '{order.subscription_id}'")
    return subscription


@dataclass(frozen=True)
class CheckoutStanding:
    """What a checkout's request is checked against before its saga starts."""

    customer_known: bool
    plan_active: bool
    current_subscription: tuple[str, str] | None
    """The customer's active or pending subscription: its id and plan."""
    earlier_checkout: str | None = None
    """The id of the checkout that already holds the request's idempotency key."""


CheckoutStandingReader = Callable[[str, str, str | None], Awaitable[CheckoutStanding]]
"""``(customer_id, plan_id, saga key or None)`` → their ``CheckoutStanding``: one read of
the query side, the key's earlier checkout with the rest (a request that repeats one is
answered by it; any other costs no read of its own for the key)."""


async def standing_in(
    uow: UnitOfWork, sagas: SagaOrchestrator, customer_id: str, plan_id: str, key: str | None
) -> CheckoutStanding:
    """The standing read through a unit of work (where no query side is wired: fakes)."""
    earlier = await sagas.find(CHECKOUT, key) if key is not None else None
    async with uow:
        customer = await uow.customers.get(customer_id)
        plan = await uow.plans.get(plan_id)
        current = await uow.subscriptions.active_for(customer_id)
    return CheckoutStanding(
        customer is not None,
        plan is not None and plan.active,
        (current.id, current.plan_id) if current is not None else None,
        earlier.id if earlier is not None else None,
    )


async def start_checkout(
    command: Checkout,
    uow: UnitOfWork,
    sagas: SagaOrchestrator,
    standing: CheckoutStandingReader | None = None,
) -> CheckoutStarted:
    """Check what can be checked now, then start the saga; it runs in the background.

    The same ``idempotency_key`` from the same customer answers the checkout it started,
    whatever has happened since; with another plan or card it is refused. ``standing``
    reads what is checked, the key's earlier checkout with it (else the unit of work and
    the saga store do).
    """
    key = f"{command.customer_id}:{command.idempotency_key}" if command.idempotency_key else None
    checked = (
        await standing(command.customer_id, command.plan_id, key)
        if standing is not None
        else await standing_in(uow, sagas, command.customer_id, command.plan_id, key)
    )
    if checked.earlier_checkout is not None:
        return _replayed(await _view(sagas, checked.earlier_checkout), command)
    if not checked.customer_known:
        raise CustomerUnknown(command.customer_id)
    if not checked.plan_active:
        raise UnknownPlan(command.plan_id)
    if checked.current_subscription is not None:
        raise AlreadySubscribed(*checked.current_subscription)
    saga_id = new_id()
    data = {
        "customer_id": command.customer_id,
        "plan_id": command.plan_id,
        "card_number": command.card_number,
        "card_last4": command.card_number[-4:],
        "subscription_id": new_id(),
        "invoice_id": new_id(),
        "payment_key": f"checkout-{saga_id}",
    }
    started = await sagas.start(CHECKOUT, data, idempotency_key=key, saga_id=saga_id)
    if not started.created:  # a request with the same key stored its checkout meanwhile
        return _replayed(await _view(sagas, started.saga.id), command)
    return CheckoutStarted(sagas.view_of(started.saga), replayed=False)


async def checkout_of(customer_id: str, checkout_id: str, sagas: SagaOrchestrator) -> SagaView:
    """The customer's checkout; another customer's is as unknown as a missing one."""
    view = await sagas.view(checkout_id)
    if (
        view is None
        or view.summary.saga_type != CHECKOUT
        or view.data.get("customer_id") != customer_id
    ):
        raise CheckoutNotFound(checkout_id)
    return view


def _replayed(earlier: SagaView, command: Checkout) -> CheckoutStarted:
    """The checkout an earlier request with the same key started, if it asked the same."""
    asked = (command.plan_id, command.card_number[-4:])
    if (earlier.data.get("plan_id"), earlier.data.get("card_last4")) != asked:
        raise CheckoutKeyReused(command.idempotency_key or "")
    return CheckoutStarted(earlier, replayed=True)


async def _view(sagas: SagaOrchestrator, saga_id: str) -> SagaView:
    view = await sagas.view(saga_id)
    if view is None:
        raise CheckoutNotFound(saga_id)
    return view
