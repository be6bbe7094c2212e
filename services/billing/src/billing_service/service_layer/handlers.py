"""One handler per command. Each runs its rules in a unit of work and commits once.

Paying and refunding call the provider *between* two short units of work, so no transaction
stays open while the card network thinks:

1. claim the invoice (``open`` → ``processing``) and record a pending payment under the
   caller's idempotency key;
2. charge the provider under a key of that payment (``payment-<id>``);
3. record the outcome.

A retry with the same idempotency key replays a recorded outcome, or resumes an attempt that
timed out under the same provider key, so the provider never charges twice. An attempt whose
process died between 2 and 3 leaves the invoice ``processing``; once it is older than any
provider call can take, a retry with its key takes it over.

When the database refuses a commit because a concurrent request got there first
(``ConflictingWrite``), the handler reads the state again and answers what now applies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from strangler_contracts.payments import (
    REJECTED_BY_PROVIDER,
    counts_as_declined,
)

from billing_service.domain.commands import (
    AddCustomer,
    CancelSubscription,
    PayInvoice,
    RefundInvoice,
    RenameCustomer,
    Subscribe,
)
from billing_service.domain.customers import Customer
from billing_service.domain.errors import (
    AlreadySubscribed,
    CardWasDeclined,
    CustomerUnknown,
    IdempotencyKeyReused,
    InvoiceNotFound,
    NoCapturedPayment,
    PaymentInProgress,
    PaymentProviderTimedOut,
    PaymentProviderUnavailable,
    RefundRejected,
    SubscriptionNotFound,
    UnknownPlan,
)
from billing_service.domain.ids import new_id
from billing_service.domain.invoices import Invoice
from billing_service.domain.payments import Payment
from billing_service.domain.plans import Plan
from billing_service.domain.refunds import Refund
from billing_service.domain.subscriptions import Subscription
from billing_service.service_layer.payment_provider import (
    CardDeclined,
    Charge,
    ChargeInFlight,
    PaymentProvider,
    ProcessorTimedOut,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
)
from billing_service.service_layer.unit_of_work import (
    ConflictingWrite,
    UnitOfWork,
    UnitOfWorkFactory,
)

__all__ = [
    "Clock",
    "PaymentOutcome",
    "PaymentPolicy",
    "RefundOutcome",
    "Subscribed",
    "add_customer",
    "cancel_subscription",
    "invoice_for_current_period",
    "owned_invoice",
    "owned_subscription",
    "pay_invoice",
    "refund_invoice",
    "rename_customer",
    "subscribe",
]

Clock = Callable[[], datetime]

CANCEL_ATTEMPTS = 3


@dataclass(frozen=True)
class Subscribed:
    subscription: Subscription
    invoice: Invoice


@dataclass(frozen=True)
class PaymentOutcome:
    payment: Payment
    invoice: Invoice
    replayed: bool


@dataclass(frozen=True)
class RefundOutcome:
    refund: Refund
    invoice: Invoice
    replayed: bool


def invoice_for_current_period(
    invoice_id: str, subscription: Subscription, plan: Plan, now: datetime
) -> Invoice:
    """The invoice of the subscription's current period: two aggregates, introduced here."""
    return Invoice.issue(
        id=invoice_id,
        subscription_id=subscription.id,
        customer_id=subscription.customer_id,
        period_start=subscription.current_period_start,
        period_end=subscription.current_period_end,
        plan=plan,
        now=now,
    )


async def owned_subscription(
    uow: UnitOfWork, customer_id: str, subscription_id: str
) -> Subscription:
    """The customer's subscription; another customer's is as unknown as a missing one."""
    subscription = await uow.subscriptions.get(subscription_id)
    if subscription is None or subscription.customer_id != customer_id:
        raise SubscriptionNotFound(subscription_id)
    return subscription


async def owned_invoice(uow: UnitOfWork, customer_id: str, invoice_id: str) -> Invoice:
    return _owned(await uow.invoices.get(invoice_id), customer_id, invoice_id)


def _owned(invoice: Invoice | None, customer_id: str, invoice_id: str) -> Invoice:
    """The customer's invoice; another customer's is as unknown as a missing one."""
    if invoice is None or invoice.customer_id != customer_id:
        raise InvoiceNotFound(invoice_id)
    return invoice


async def add_customer(command: AddCustomer, uow: UnitOfWork) -> None:
    """Learn of a registered user. A customer billing already knows is left as it is."""
    async with uow:
        if await uow.customers.get(command.customer_id) is not None:
            return
        uow.customers.add(
            Customer(
                id=command.customer_id,
                email=command.email,
                name=command.name,
                registered_at=command.registered_at,
                origin=command.origin,
            )
        )
        await uow.commit()


async def rename_customer(command: RenameCustomer, uow: UnitOfWork) -> None:
    """Follow a user's new name. A user billing does not know (yet) is left to their
    registration, which carries the name they have then."""
    async with uow:
        customer = await uow.customers.get(command.customer_id)
        if customer is not None and customer.rename(command.name):
            await uow.commit()


async def forget_customer_email(customer_id: str, placeholder: str, uow: UnitOfWork) -> None:
    """A closed account's address leaves billing's records as it left the accounts side."""
    async with uow:
        customer = await uow.customers.get(customer_id)
        if customer is not None and customer.forget_email(placeholder):
            await uow.commit()


async def subscribe(command: Subscribe, uow: UnitOfWork, clock: Clock) -> Subscribed:
    """Start a subscription and issue the invoice for its first period."""
    async with uow:
        customer = await uow.customers.get(command.customer_id)
        if customer is None:
            raise CustomerUnknown(command.customer_id)
        plan = await uow.plans.get(command.plan_id)
        if plan is None:
            raise UnknownPlan(command.plan_id)
        now = clock()
        subscription = Subscription.start(
            id=new_id(),
            customer=customer,
            plan=plan,
            active=await uow.subscriptions.active_for(customer.id),
            now=now,
        )
        invoice = invoice_for_current_period(new_id(), subscription, plan, now)
        uow.subscriptions.add(subscription)
        uow.invoices.add(invoice)
        try:
            await uow.commit()
        except ConflictingWrite:
            pass
        else:
            return Subscribed(subscription, invoice)
    async with uow:  # a concurrent request subscribed this customer first
        winner = await uow.subscriptions.active_for(command.customer_id)
    if winner is None:
        raise ConflictingWrite(f"subscribing customer '{command.customer_id}'")
    raise AlreadySubscribed(winner.id, winner.plan_id)


async def cancel_subscription(
    command: CancelSubscription, uow: UnitOfWork, clock: Clock
) -> Subscription:
    """Cancel now; its open invoices are voided in the same transaction.

    A payment claiming one of those invoices at the same moment makes the commit conflict;
    the cancellation then starts again from what is stored, and leaves that invoice to it.
    """
    for _ in range(CANCEL_ATTEMPTS - 1):
        try:
            return await _cancel(command, uow, clock)
        except ConflictingWrite:
            continue
    return await _cancel(command, uow, clock)


async def _cancel(command: CancelSubscription, uow: UnitOfWork, clock: Clock) -> Subscription:
    async with uow:
        subscription = await owned_subscription(uow, command.customer_id, command.subscription_id)
        open_invoices = await uow.invoices.open_of_subscription(subscription.id)
        subscription.cancel(clock(), voiding=[invoice.id for invoice in open_invoices])
        for invoice in open_invoices:
            invoice.void_for(subscription.id)
        await uow.commit()
        return subscription


@dataclass(frozen=True)
class PaymentPolicy:
    """How long the provider may take; an attempt older than a few of these is abandoned."""

    provider_timeout: timedelta


def _may_resume(
    payment: Payment, now: datetime, policy: PaymentPolicy, take_over_pending: bool
) -> bool:
    """Whether this attempt may be asked of the provider again, under its key: nothing is
    known to be charged by it, and no live request is running it."""
    if payment.status in ("timed_out", "interrupted"):
        return True
    if payment.status == "failed":
        return not counts_as_declined(payment.status, payment.failure_code)
    return payment.status == "pending" and (
        take_over_pending or payment.is_abandoned(now, policy.provider_timeout)
    )


async def _claim_for_payment(
    command: PayInvoice,
    key: str,
    uows: UnitOfWorkFactory,
    clock: Clock,
    policy: PaymentPolicy,
    take_over_pending: bool,
) -> PaymentOutcome:
    async with uows() as uow:
        found = await uow.read_for_payment(command.invoice_id, command.customer_id, key)
        invoice = _owned(found.invoice, command.customer_id, command.invoice_id)
        payment = found.by_key
        now = clock()
        if payment is not None:
            if payment.invoice_id != invoice.id:
                raise IdempotencyKeyReused(key)
            if payment.status == "succeeded":
                return PaymentOutcome(payment, invoice, replayed=True)
            if payment.status == "failed" and counts_as_declined(
                payment.status, payment.failure_code
            ):
                raise CardWasDeclined(
                    invoice.id,
                    payment.id,
                    payment.failure_code or "",
                    payment.failure_message or "",
                )
            if not _may_resume(payment, now, policy, take_over_pending):
                raise PaymentInProgress(invoice.id)  # pending: another request runs it
        else:
            payment = found.next_attempt
            if payment is not None and not _may_resume(payment, now, policy, False):
                raise PaymentInProgress(invoice.id) if invoice.is_open else invoice.refusal_to_pay()
        if payment is None:
            assert found.next_attempt_id is not None, "read with the invoice"
            invoice.start_payment()
            payment = Payment(
                id=found.next_attempt_id,
                invoice_id=invoice.id,
                customer_id=command.customer_id,
                idempotency_key=key,
                amount_cents=invoice.amount_cents,
                currency=invoice.currency,
                card_last4=command.card_number[-4:],
                created_at=now,
            )
            uow.payments.add(payment)
        else:
            invoice.start_payment(resuming_abandoned=payment.status == "pending")
            payment.attempt_again(now, idempotency_key=key, card_last4=command.card_number[-4:])
        try:
            await uow.commit()
        except ConflictingWrite:
            pass
        else:
            return PaymentOutcome(payment, invoice, replayed=False)
    async with uows() as uow:  # a concurrent attempt claimed the invoice first
        invoice = await owned_invoice(uow, command.customer_id, command.invoice_id)
        payment = await uow.payments.by_key(command.customer_id, key)
    if payment is not None and payment.status == "succeeded":
        return PaymentOutcome(payment, invoice, replayed=True)
    raise invoice.refusal_to_pay()


async def pay_invoice(
    command: PayInvoice,
    uows: UnitOfWorkFactory,
    payments: PaymentProvider,
    clock: Clock,
    policy: PaymentPolicy,
    *,
    take_over_pending: bool = False,
) -> PaymentOutcome:
    """Charge the invoice's amount; see the module docstring for the three steps.

    ``take_over_pending``: the caller knows that no one else is paying under this key (a
    saga holding its lease), so a pending attempt is one whose process died; resume it now
    rather than once it is old enough to count as abandoned.
    """
    claim = await _claim_for_payment(
        command, command.idempotency_key or new_id(), uows, clock, policy, take_over_pending
    )
    if claim.replayed:
        return claim
    payment_id, invoice = claim.payment.id, claim.invoice

    charge: Charge | None = None
    declined: CardDeclined | None = None
    interruption: ProviderTimeout | ProviderUnavailable | None = None
    try:
        charge = await payments.charge(
            amount_cents=invoice.amount_cents,
            currency=invoice.currency,
            card_number=command.card_number,
            description=f"Invoice {invoice.id}",
            key=claim.payment.provider_key,
            timeout_seconds=policy.provider_timeout.total_seconds(),
        )
    except ChargeInFlight as exc:
        # Another request runs this attempt (the other side of the seam, or the one whose
        # process died): it decides the outcome, so this one stays pending.
        raise PaymentInProgress(invoice.id) from exc
    except CardDeclined as exc:
        declined = exc
    except ProviderRejected as exc:
        declined = CardDeclined(REJECTED_BY_PROVIDER, exc.detail)
    except (ProviderTimeout, ProviderUnavailable) as exc:
        interruption = exc

    for looking_again in (False, True):
        async with uows() as uow:
            if looking_again:
                invoice = await owned_invoice(uow, command.customer_id, command.invoice_id)
                stored = await uow.payments.get(payment_id)
                assert stored is not None, "the claim committed it"
                payment = stored
            else:  # as the claim left them: changed since, the commit conflicts (below)
                invoice = await uow.invoices.attach(claim.invoice)
                payment = await uow.payments.attach(claim.payment)
            if looking_again and payment.status in ("succeeded", "failed"):
                return _recorded_outcome(payment, invoice)
            now = clock()
            if charge is not None:
                invoice.settle(payment, charge_id=charge.charge_id, at=now)
            elif declined is not None:
                invoice.decline(payment, code=declined.code, message=declined.message, at=now)
            else:
                invoice.interrupt(
                    payment,
                    timed_out=isinstance(interruption, ProviderTimeout),
                    reason=str(interruption),
                    at=now,
                )
            try:
                await uow.commit()
            except ConflictingWrite:
                # Changed since the claim: a retry took the attempt over while the provider
                # answered this request (it got the same answer under the same key). Record
                # it from what is stored now.
                if looking_again:
                    raise
                continue
            break

    if declined is not None:
        raise CardWasDeclined(invoice.id, payment_id, declined.code, declined.message)
    if isinstance(interruption, ProviderTimeout):
        raise PaymentProviderTimedOut(
            invoice.id, payment_id, nothing_charged=isinstance(interruption, ProcessorTimedOut)
        )
    if interruption is not None:
        raise PaymentProviderUnavailable(
            f"The payment provider could not be reached ({interruption}). Nothing was charged; "
            "retry with the same Idempotency-Key."
        )
    return PaymentOutcome(payment, invoice, replayed=False)


def _recorded_outcome(payment: Payment, invoice: Invoice) -> PaymentOutcome:
    """What a concurrent request under the same attempt recorded: its success, or its decline."""
    if payment.status == "succeeded":
        return PaymentOutcome(payment, invoice, replayed=True)
    raise CardWasDeclined(
        invoice.id, payment.id, payment.failure_code or "", payment.failure_message or ""
    )


async def refund_invoice(
    command: RefundInvoice, uows: UnitOfWorkFactory, payments: PaymentProvider, clock: Clock
) -> RefundOutcome:
    """Refund all or part of a paid invoice through the provider, at most once per key."""
    key = command.idempotency_key or new_id()
    async with uows() as uow:
        invoice = await owned_invoice(uow, command.customer_id, command.invoice_id)
        recorded = await uow.refunds.by_key(invoice.id, key)
        if recorded is not None:
            return RefundOutcome(recorded, invoice, replayed=True)
        amount = invoice.refund_amount(command.amount_cents)
        payment = await uow.payments.succeeded_for(invoice.id)
        if payment is None or payment.provider_charge_id is None:
            raise NoCapturedPayment(invoice.id)

    try:
        receipt = await payments.refund(
            charge_id=payment.provider_charge_id,
            amount_cents=amount,
            key=f"refund-{invoice.id}-{key}",
        )
    except ProviderRejected as exc:
        raise RefundRejected(exc.detail) from exc
    except CardDeclined as exc:  # the card's issuer refused to take the money back
        raise RefundRejected(exc.message) from exc
    except (ProviderTimeout, ProviderUnavailable) as exc:
        raise PaymentProviderUnavailable(
            f"The refund could not be confirmed ({exc}). Retry with the same Idempotency-Key."
        ) from exc

    async with uows() as uow:
        invoice = await owned_invoice(uow, command.customer_id, command.invoice_id)
        refund = invoice.record_refund(
            id=new_id(),
            payment=payment,
            idempotency_key=key,
            amount_cents=receipt.amount_cents,
            reason=command.reason,
            provider_refund_id=receipt.refund_id,
            at=clock(),
        )
        uow.refunds.add(refund)
        try:
            await uow.commit()
        except ConflictingWrite:
            pass
        else:
            return RefundOutcome(refund, invoice, replayed=False)
    async with uows() as uow:  # a concurrent retry with the same key recorded it first
        invoice = await owned_invoice(uow, command.customer_id, command.invoice_id)
        recorded = await uow.refunds.by_key(invoice.id, key)
    if recorded is None:
        raise ConflictingWrite(f"recording the refund of invoice '{invoice.id}'")
    return RefundOutcome(recorded, invoice, replayed=True)
