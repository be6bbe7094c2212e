"""Plans, subscriptions, invoices, payments and refunds — and the e-mails they cause.

Paying an invoice spans three short transactions of the request's one session around the
provider call, so no database lock is held while the card network thinks and no request
holds two pooled connections: (1) claim the invoice (``open`` → ``processing``) and record a
pending payment under the caller's idempotency key, (2) charge the provider with a key
derived from the payment id, (3) record the outcome. A retry with the same key replays the
recorded outcome, or resumes a timed-out attempt with the same provider key, so the
provider never charges twice.

The payment's id is not random: it names the invoice's current attempt
(``strangler_contracts.payments``), the same id the billing service gives it. So while both
sides serve billing, an invoice paid on both at once — whatever keys the callers send —
reaches the provider under one key and is charged once; the side whose request the provider
is still running, or made with another card, answers ``payment-in-progress`` and leaves its
attempt pending until the other side's outcome arrives through the sync.

If the process dies between (2) and (3), the invoice stays ``processing``. Once the attempt
is older than any provider call can take, a retry (with any key) takes it over and asks
the provider again with the same provider key: the provider replays the charge it made, or
makes the one it never made. Until then, other keys get 409. A request that was only slow
(a busy machine) and finds at (3) that such a racer recorded the answer first answers with
that record instead of recording, publishing and mailing the payment a second time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from http_platform import Problem
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from strangler_contracts.payments import (
    REJECTED_BY_PROVIDER,
    counts_as_declined,
    next_attempt,
    payment_attempt_id,
)
from strangler_persistence import read_page

from legacy_monolith import events
from legacy_monolith.billing.payment_provider import (
    AttemptTakenElsewhere,
    CardDeclined,
    Charge,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
)
from legacy_monolith.billing.periods import next_period_end
from legacy_monolith.database import paginate, utcnow
from legacy_monolith.errors import (
    CardWasDeclined,
    Conflict,
    NotFound,
    PaymentProviderDown,
    PaymentProviderTimedOut,
)
from legacy_monolith.models import (
    ORIGIN,
    Invoice,
    Payment,
    Plan,
    Refund,
    Subscription,
    User,
    new_id,
)
from legacy_monolith.notifications.service import record_with_mail
from legacy_monolith.runtime import Runtime

__all__ = [
    "PaymentOutcome",
    "RefundOutcome",
    "cancel_subscription",
    "format_money",
    "get_invoice",
    "get_subscription",
    "issue_due_invoices",
    "list_invoices",
    "list_plans",
    "list_subscriptions",
    "pay_invoice",
    "refund_invoice",
    "subscribe",
]

PAYABLE = "open"
REFUNDABLE = ("paid", "partially_refunded")


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


def format_money(cents: int, currency: str) -> str:
    return f"{cents / 100:.2f} {currency.upper()}"


def _one_more_version() -> dict[str, Any]:
    """What a bulk UPDATE of invoices sets besides its change: the ORM's version count
    (``models.SyncedRecord``) does not see bulk statements."""
    return {"version": Invoice.version + 1, "origin": ORIGIN}


def _period_label(invoice: Invoice) -> str:
    return f"{invoice.period_start:%Y-%m-%d} to {invoice.period_end:%Y-%m-%d}"


_PLANS = Plan.__table__.c
ACTIVE_PLANS = (
    select(_PLANS.id, _PLANS.name, _PLANS.price_cents, _PLANS.currency, _PLANS.interval)
    .where(_PLANS.active)
    .order_by(_PLANS.price_cents, _PLANS.id)
)
"""The public catalogue, built once: read as rows, not entities (the hottest read)."""


async def list_plans(engine: AsyncEngine, limit: int, offset: int) -> tuple[Sequence[Any], int]:
    """A page of the active plans, as rows with the plan's columns as attributes (read in
    one go: ``strangler_persistence.read_page``)."""
    return await read_page(engine, ACTIVE_PLANS, limit, offset)


async def _issue_invoice(
    session: AsyncSession, runtime: Runtime, user: User, subscription: Subscription, plan: Plan
) -> Invoice:
    invoice = Invoice(
        id=new_id(),
        subscription_id=subscription.id,
        user_id=user.id,
        amount_cents=plan.price_cents,
        amount_refunded_cents=0,
        currency=plan.currency,
        period_start=subscription.current_period_start,
        period_end=subscription.current_period_end,
        status=PAYABLE,
        issued_at=utcnow(),
    )
    session.add(invoice)
    await session.flush()
    await record_with_mail(
        session,
        runtime,
        user,
        events.invoice_issued(invoice, subscription),
        "invoice_issued",
        invoice_id=invoice.id,
        plan_name=plan.name,
        amount=format_money(invoice.amount_cents, invoice.currency),
        period=_period_label(invoice),
    )
    return invoice


async def subscribe(
    session: AsyncSession, runtime: Runtime, user: User, plan_id: str
) -> tuple[Subscription, Invoice]:
    """Start a subscription and issue the invoice for its first period."""
    plan = await session.get(Plan, plan_id)
    if plan is None or not plan.active:
        raise Problem(
            422,
            "unknown-plan",
            "Unknown plan",
            f"There is no active plan '{plan_id}'. GET /api/billing/plans lists them.",
            errors=[{"pointer": "/plan_id", "message": "unknown plan", "code": "unknown_plan"}],
        )
    active = await session.scalar(
        select(Subscription).where(Subscription.user_id == user.id, Subscription.status == "active")
    )
    if active is not None:
        raise Conflict(
            "already-subscribed",
            "Already subscribed",
            f"Subscription '{active.id}' to plan '{active.plan_id}' is active; cancel it first.",
            subscription_id=active.id,
        )
    start = utcnow()
    subscription = Subscription(
        id=new_id(),
        user_id=user.id,
        plan_id=plan.id,
        status="active",
        current_period_start=start,
        current_period_end=next_period_end(start),
        created_at=start,
    )
    session.add(subscription)
    await session.flush()
    await events.record(session, events.subscription_started(subscription))
    invoice = await _issue_invoice(session, runtime, user, subscription, plan)
    await session.commit()
    return subscription, invoice


async def list_subscriptions(
    session: AsyncSession, user_id: str, limit: int, offset: int
) -> tuple[list[Subscription], int]:
    statement = (
        select(Subscription)
        .where(Subscription.user_id == user_id)
        .order_by(Subscription.created_at.desc(), Subscription.id)
    )
    return await paginate(session, statement, limit, offset)


async def get_subscription(
    session: AsyncSession, user_id: str, subscription_id: str
) -> Subscription:
    subscription = await session.get(Subscription, subscription_id)
    if subscription is None or subscription.user_id != user_id:
        raise NotFound("subscription", subscription_id)
    return subscription


async def cancel_subscription(
    session: AsyncSession, user_id: str, subscription_id: str
) -> Subscription:
    """Cancel now; unpaid invoices of the subscription are voided."""
    subscription = await get_subscription(session, user_id, subscription_id)
    if subscription.status != "active":
        raise Conflict(
            "subscription-not-active",
            "Subscription not active",
            f"Subscription '{subscription.id}' is {subscription.status}.",
        )
    subscription.status = "cancelled"
    subscription.cancelled_at = utcnow()
    voided = await session.execute(
        update(Invoice)
        .where(Invoice.subscription_id == subscription.id, Invoice.status == PAYABLE)
        .values(status="void", **_one_more_version())
        .returning(Invoice.id, Invoice.version)
    )
    voided_versions = {invoice_id: version for invoice_id, version in voided}
    await events.record(session, events.subscription_cancelled(subscription, voided_versions))
    await session.commit()
    return subscription


async def list_invoices(
    session: AsyncSession, user_id: str, limit: int, offset: int
) -> tuple[list[Invoice], int]:
    statement = (
        select(Invoice)
        .where(Invoice.user_id == user_id)
        .order_by(Invoice.issued_at.desc(), Invoice.id)
    )
    return await paginate(session, statement, limit, offset)


async def get_invoice(session: AsyncSession, user_id: str, invoice_id: str) -> Invoice:
    invoice = await session.get(Invoice, invoice_id)
    if invoice is None or invoice.user_id != user_id:
        raise NotFound("invoice", invoice_id)
    return invoice


def _not_payable(invoice: Invoice) -> Conflict:
    if invoice.status == "processing":
        return _in_progress(invoice.id)
    if invoice.status in REFUNDABLE or invoice.status == "refunded":
        return Conflict(
            "invoice-already-paid", "Invoice already paid", f"Invoice '{invoice.id}' is paid."
        )
    return Conflict(
        "invoice-not-payable",
        "Invoice not payable",
        f"Invoice '{invoice.id}' is {invoice.status}.",
    )


def _in_progress(invoice_id: str) -> Conflict:
    return Conflict(
        "payment-in-progress",
        "Payment in progress",
        f"Invoice '{invoice_id}' is being paid right now.",
    )


def _abandoned(runtime: Runtime, payment: Payment) -> bool:
    """A pending attempt older than three provider timeouts lost its process mid-payment."""
    started = payment.attempted_at or payment.created_at
    limit = timedelta(seconds=3 * runtime.settings.payment_timeout_seconds)
    return utcnow() - started > limit


def _can_take_over(runtime: Runtime, attempt: Payment) -> bool:
    """Whether this attempt of the invoice may be asked of the provider again, under its key:
    nothing is known to be charged by it and no live request is running it."""
    if attempt.status in ("timed_out", "interrupted"):
        return True
    if attempt.status == "failed":
        return not counts_as_declined(attempt.status, attempt.failure_code)
    return attempt.status == "pending" and _abandoned(runtime, attempt)


async def _replay_or_refuse(
    runtime: Runtime, invoice: Invoice, payment: Payment, key: str
) -> PaymentOutcome | None:
    """What a retry under a key already used answers: the recorded outcome, or None when
    the attempt may be resumed."""
    if payment.invoice_id != invoice.id:
        raise Problem(
            422,
            "idempotency-key-reused",
            "Idempotency key reused",
            f"Idempotency-Key '{key}' was used for another invoice.",
        )
    if payment.status == "succeeded":
        return PaymentOutcome(payment, invoice, replayed=True)
    if payment.status == "failed" and counts_as_declined(payment.status, payment.failure_code):
        raise CardWasDeclined(
            invoice.id, payment.id, payment.failure_code or "", payment.failure_message or ""
        )
    if payment.status == "pending" and not _abandoned(runtime, payment):
        raise _in_progress(invoice.id)  # whatever the invoice read a moment before said
    return None


async def _current_attempt(session: AsyncSession, invoice_id: str) -> str:
    """The id of the payment a new attempt of the invoice is (``strangler_contracts.payments``)."""
    declined = await session.scalar(
        select(func.count())
        .select_from(Payment)
        .where(
            Payment.invoice_id == invoice_id,
            Payment.status == "failed",
            Payment.failure_code.is_distinct_from(REJECTED_BY_PROVIDER),
        )
    )
    return payment_attempt_id(invoice_id, next_attempt(declined or 0))


async def _claim_for_payment(
    session: AsyncSession,
    runtime: Runtime,
    user_id: str,
    invoice_id: str,
    key: str,
    card_number: str,
) -> PaymentOutcome:
    """Step 1: claim the invoice for the attempt the key names, or else its current one."""
    invoice = await get_invoice(session, user_id, invoice_id)
    payment = await session.scalar(
        select(Payment).where(Payment.user_id == user_id, Payment.idempotency_key == key)
    )
    if payment is not None:
        replay = await _replay_or_refuse(runtime, invoice, payment, key)
        if replay is not None:
            return replay
    else:
        attempt_id = await _current_attempt(session, invoice.id)
        payment = await session.get(Payment, attempt_id)
        if payment is not None and not _can_take_over(runtime, payment):
            raise _not_payable(invoice) if invoice.status != PAYABLE else _in_progress(invoice.id)
    claimable = [PAYABLE]
    if payment is not None and payment.status == "pending":
        claimable.append("processing")
    claimed = await session.execute(
        update(Invoice)
        .where(Invoice.id == invoice.id, Invoice.status.in_(claimable))
        .values(status="processing", **_one_more_version())
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount == 0:  # type: ignore[attr-defined]
        raise _ClaimTaken
    if payment is None:
        payment = Payment(
            id=attempt_id,
            invoice_id=invoice.id,
            user_id=user_id,
            amount_cents=invoice.amount_cents,
            currency=invoice.currency,
            created_at=utcnow(),
        )
        session.add(payment)
    payment.idempotency_key = key
    payment.card_last4 = card_number[-4:]
    payment.status = "pending"
    payment.failure_code = None
    payment.failure_message = None
    payment.attempted_at = utcnow()
    await session.flush()
    await session.refresh(invoice)
    return PaymentOutcome(payment, invoice, replayed=False)


class _ClaimTaken(Exception):
    """A concurrent request claimed the invoice between this one's reads and its write."""


async def _claim_or_answer(
    session: AsyncSession,
    runtime: Runtime,
    user_id: str,
    invoice_id: str,
    key: str | None,
    card_number: str,
) -> PaymentOutcome:
    """Step 1, committed. Losing the claim to a concurrent request, it looks again: a retry
    under the winner's key then replays the winner's outcome."""
    key = key or new_id()
    try:
        return await _committed_claim(session, runtime, user_id, invoice_id, key, card_number)
    except (_ClaimTaken, IntegrityError):
        await session.rollback()
    try:
        return await _committed_claim(session, runtime, user_id, invoice_id, key, card_number)
    except (_ClaimTaken, IntegrityError):
        await session.rollback()
    invoice = await get_invoice(session, user_id, invoice_id)
    payment = await session.scalar(
        select(Payment).where(Payment.user_id == user_id, Payment.idempotency_key == key)
    )
    await session.commit()
    if payment is not None and payment.status == "succeeded":
        return PaymentOutcome(payment, invoice, replayed=True)
    raise _not_payable(invoice)


async def _committed_claim(
    session: AsyncSession,
    runtime: Runtime,
    user_id: str,
    invoice_id: str,
    key: str,
    card_number: str,
) -> PaymentOutcome:
    try:
        claim = await _claim_for_payment(session, runtime, user_id, invoice_id, key, card_number)
        await session.commit()
    except (_ClaimTaken, IntegrityError):
        raise
    except BaseException:
        await session.rollback()
        raise
    return claim


async def pay_invoice(
    session: AsyncSession,
    runtime: Runtime,
    user_id: str,
    invoice_id: str,
    card_number: str,
    key: str | None,
) -> PaymentOutcome:
    """Charge the invoice's amount; see the module docstring for the three steps.

    ``session`` is the request's: each step commits, so its connection goes back to the
    pool before the provider is asked and no request ever holds two connections.
    """
    claim = await _claim_or_answer(session, runtime, user_id, invoice_id, key, card_number)
    if claim.replayed:
        return claim
    payment, invoice = claim.payment, claim.invoice

    charge: Charge | None = None
    failure: CardDeclined | None = None
    interruption: ProviderTimeout | ProviderUnavailable | None = None
    try:
        charge = await runtime.payments.charge(
            amount_cents=invoice.amount_cents,
            currency=invoice.currency,
            card_number=card_number,
            description=f"Invoice {invoice.id}",
            key=f"payment-{payment.id}",
        )
    except AttemptTakenElsewhere as exc:
        raise _in_progress(invoice.id) from exc
    except CardDeclined as exc:
        failure = exc
    except ProviderRejected as exc:
        failure = CardDeclined(REJECTED_BY_PROVIDER, exc.detail)
    except (ProviderTimeout, ProviderUnavailable) as exc:
        interruption = exc

    try:
        settled_meanwhile = await _settled_meanwhile(session, payment, invoice)
        if not settled_meanwhile:
            await _record_outcome(session, runtime, user_id, payment, invoice, charge, failure)
            if interruption is not None:
                payment.status = (
                    "timed_out" if isinstance(interruption, ProviderTimeout) else "interrupted"
                )
                payment.failure_message = str(interruption)
                invoice.status = PAYABLE
        await session.commit()
    except BaseException:
        await session.rollback()
        raise

    if settled_meanwhile:  # a racer's takeover recorded the provider's answer first
        if payment.status == "succeeded":
            return PaymentOutcome(payment, invoice, replayed=True)
        raise CardWasDeclined(
            invoice.id, payment.id, payment.failure_code or "", payment.failure_message or ""
        )
    if failure is not None:
        raise CardWasDeclined(invoice.id, payment.id, failure.code, failure.message)
    if isinstance(interruption, ProviderTimeout):
        raise PaymentProviderTimedOut(invoice.id, payment.id)
    if interruption is not None:
        raise PaymentProviderDown(
            f"The payment provider could not be reached ({interruption}). Nothing was charged; "
            "retry with the same Idempotency-Key."
        )
    return PaymentOutcome(payment, invoice, replayed=False)


async def _settled_meanwhile(session: AsyncSession, payment: Payment, invoice: Invoice) -> bool:
    """Step 3 begins here: whether a racer that took this attempt over (it found it older
    than three provider timeouts) already recorded the provider's answer, the same one this
    request got under the same provider key. Then that record stands, and recording it again
    would publish the payment twice and mail its receipt twice.

    The invoice's row is written first (to itself) to hold it until the commit, on SQLite
    as on PostgreSQL: a racer recording at the same moment waits, then finds the payment
    settled. The invoice, as the claim does: rows locked in one order cannot deadlock.
    """
    await session.execute(
        update(Invoice)
        .where(Invoice.id == invoice.id)
        .values(status=Invoice.status)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(payment)
    await session.refresh(invoice)
    return payment.status in ("succeeded", "failed")


async def _record_outcome(
    session: AsyncSession,
    runtime: Runtime,
    user_id: str,
    payment: Payment,
    invoice: Invoice,
    charge: Charge | None,
    failure: CardDeclined | None,
) -> None:
    """Step 3, in the session's next transaction: what the provider answered."""
    payment.completed_at = utcnow()
    amount = format_money(invoice.amount_cents, invoice.currency)
    if charge is not None:
        payment.status = "succeeded"
        payment.provider_charge_id = charge.charge_id
        invoice.status = "paid"
        invoice.paid_at = payment.completed_at
        await session.flush()  # counts the versions the event carries
        await record_with_mail(
            session,
            runtime,
            await session.get_one(User, user_id),
            events.payment_succeeded(payment, invoice),
            "payment_succeeded",
            invoice_id=invoice.id,
            amount=amount,
        )
    elif failure is not None:
        payment.status = "failed"
        payment.failure_code = failure.code
        payment.failure_message = failure.message
        invoice.status = PAYABLE
        await session.flush()  # counts the versions the event carries
        await record_with_mail(
            session,
            runtime,
            await session.get_one(User, user_id),
            events.payment_failed(payment, invoice),
            "payment_failed",
            invoice_id=invoice.id,
            amount=amount,
            reason=failure.message,
        )


async def refund_invoice(
    session: AsyncSession,
    runtime: Runtime,
    user_id: str,
    invoice_id: str,
    amount_cents: int | None,
    reason: str | None,
    key: str | None,
) -> RefundOutcome:
    """Refund all or part of a paid invoice through the provider, at most once per key.

    Like paying, it ends the request session's transaction before asking the provider.
    """
    key = key or new_id()
    try:
        invoice = await get_invoice(session, user_id, invoice_id)
        existing = await session.scalar(
            select(Refund).where(Refund.invoice_id == invoice.id, Refund.idempotency_key == key)
        )
        if existing is not None:
            return RefundOutcome(existing, invoice, replayed=True)
        if invoice.status not in REFUNDABLE:
            raise Conflict(
                "invoice-not-refundable",
                "Invoice not refundable",
                f"Invoice '{invoice.id}' is {invoice.status}; only paid invoices are refunded.",
            )
        remaining = invoice.amount_cents - invoice.amount_refunded_cents
        amount = remaining if amount_cents is None else amount_cents
        if amount > remaining:
            raise Problem(
                422,
                "refund-exceeds-payment",
                "Refund exceeds payment",
                f"At most {format_money(remaining, invoice.currency)} can still be refunded.",
                remaining_cents=remaining,
            )
        payment = await session.scalar(
            select(Payment).where(Payment.invoice_id == invoice.id, Payment.status == "succeeded")
        )
        if payment is None or payment.provider_charge_id is None:
            raise Conflict(
                "invoice-not-refundable",
                "Invoice not refundable",
                f"Invoice '{invoice.id}' has no captured payment.",
            )
        charge_id, payment_id = payment.provider_charge_id, payment.id
    finally:
        await session.commit()  # nothing written: the connection goes back to the pool

    try:
        receipt = await runtime.payments.refund(
            charge_id=charge_id, amount_cents=amount, key=f"refund-{invoice_id}-{key}"
        )
    except ProviderRejected as exc:
        raise Conflict(
            "refund-rejected", "Refund rejected by the payment provider", exc.detail
        ) from exc
    except (ProviderTimeout, ProviderUnavailable) as exc:
        raise PaymentProviderDown(
            f"The refund could not be confirmed ({exc}). Retry with the same Idempotency-Key."
        ) from exc

    try:
        invoice = await session.get_one(Invoice, invoice_id, populate_existing=True)
        user = await session.get_one(User, user_id)
        refund = Refund(
            id=new_id(),
            invoice_id=invoice.id,
            payment_id=payment_id,
            idempotency_key=key,
            amount_cents=receipt.amount_cents,
            currency=invoice.currency,
            reason=reason,
            provider_refund_id=receipt.refund_id,
            created_at=utcnow(),
        )
        session.add(refund)
        invoice.amount_refunded_cents += receipt.amount_cents
        invoice.status = (
            "refunded"
            if invoice.amount_refunded_cents >= invoice.amount_cents
            else "partially_refunded"
        )
        await session.flush()
        await record_with_mail(
            session,
            runtime,
            user,
            events.refund_issued(refund, invoice),
            "refund_issued",
            invoice_id=invoice.id,
            amount=format_money(receipt.amount_cents, invoice.currency),
        )
        await session.commit()
    except IntegrityError:
        # A concurrent retry with the same key recorded it first; the provider refunded once.
        await session.rollback()
        recorded = await session.scalar(
            select(Refund).where(Refund.invoice_id == invoice_id, Refund.idempotency_key == key)
        )
        invoice = await session.get_one(Invoice, invoice_id, populate_existing=True)
        await session.rollback()
        if recorded is None:
            raise
        return RefundOutcome(recorded, invoice, replayed=True)
    except BaseException:
        await session.rollback()
        raise
    return RefundOutcome(refund, invoice, replayed=False)


async def issue_due_invoices(runtime: Runtime, as_of: datetime) -> int:
    """Advance every active subscription whose period ended and invoice the new period."""
    issued = 0
    async with runtime.sessions() as session:
        due = list(
            await session.scalars(
                select(Subscription.id).where(
                    Subscription.status == "active", Subscription.current_period_end <= as_of
                )
            )
        )
    for subscription_id in due:
        async with runtime.sessions() as session, session.begin():
            subscription = await session.get_one(Subscription, subscription_id)
            user = await session.get_one(User, subscription.user_id)
            plan = await session.get_one(Plan, subscription.plan_id)
            while subscription.status == "active" and subscription.current_period_end <= as_of:
                subscription.current_period_start = subscription.current_period_end
                subscription.current_period_end = next_period_end(subscription.current_period_start)
                await _issue_invoice(session, runtime, user, subscription, plan)
                issued += 1
    return issued
