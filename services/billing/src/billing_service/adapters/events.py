"""Billing's domain events as the contract events other deployables read, via the outbox.

Each domain event becomes the contract event of the same name, field for field, except that
the contract speaks of ``user_id`` where billing's model says ``customer_id``: the same id,
named in each side's language. The outbox table is the lib's; rows written here commit with
the change they describe, and the relay publishes them.

For the two-way sync, each published event also says that billing made the change
(``origin``), which version of each record it left (read from the records the unit of work
has just flushed) and the record fields the monolith's copy needs (``_copy_fields``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Final

import strangler_contracts as contract
from sqlalchemy.ext.asyncio import AsyncSession
from strangler_eventing import Outbox

from billing_service.adapters.orm import outbox
from billing_service.domain import events
from billing_service.domain.invoices import Invoice
from billing_service.domain.payments import Payment
from billing_service.domain.records import BILLING, Record
from billing_service.domain.refunds import Refund
from billing_service.domain.subscriptions import Subscription

__all__ = ["SOURCE", "contract_event", "record"]

SOURCE: Final = "/billing"
_OUTBOX = Outbox(outbox, SOURCE)

PUBLISHED_AS: Final[Mapping[type[events.DomainEvent], type[contract.IntegrationEvent]]] = {
    events.SubscriptionStarted: contract.SubscriptionStarted,
    events.SubscriptionActivated: contract.SubscriptionActivated,
    events.SubscriptionCancelled: contract.SubscriptionCancelled,
    events.InvoiceIssued: contract.InvoiceIssued,
    events.PaymentSucceeded: contract.PaymentSucceeded,
    events.PaymentFailed: contract.PaymentFailed,
    events.RefundIssued: contract.RefundIssued,
    events.BillingClosedForAccount: contract.BillingClosedForAccount,
    events.AccountClosureRefundDeclined: contract.AccountClosureRefundDeclined,
}


async def record(session: AsyncSession, event: events.DomainEvent) -> None:
    """Call once the change is flushed: the versions it counted go into the event."""
    copy_fields = await _copy_fields(session, event)
    await _OUTBOX.record(session, contract_event(event).model_copy(update=copy_fields))


def contract_event(event: events.DomainEvent) -> contract.IntegrationEvent:
    fields = dataclasses.asdict(event)
    fields["user_id"] = fields.pop("customer_id")
    return PUBLISHED_AS[type(event)].model_validate(fields)


async def _copy_fields(session: AsyncSession, event: events.DomainEvent) -> dict[str, Any]:
    fields: dict[str, Any] = {"origin": BILLING}
    match event:
        case events.SubscriptionStarted():
            subscription = await session.get_one(Subscription, event.subscription_id)
            fields |= {"subscription_version": subscription.version, "status": subscription.status}
        case events.SubscriptionActivated():
            fields["subscription_version"] = await _version(
                session, Subscription, event.subscription_id
            )
        case events.SubscriptionCancelled():
            fields["subscription_version"] = await _version(
                session, Subscription, event.subscription_id
            )
            fields["voided_invoice_versions"] = {
                invoice_id: await _version(session, Invoice, invoice_id)
                for invoice_id in event.voided_invoice_ids
            }
        case events.InvoiceIssued():
            fields["invoice_version"] = await _version(session, Invoice, event.invoice_id)
            fields["subscription_version"] = await _version(
                session, Subscription, event.subscription_id
            )
        case events.PaymentSucceeded() | events.PaymentFailed():
            payment = await session.get_one(Payment, event.payment_id)
            fields |= {
                "invoice_version": await _version(session, Invoice, event.invoice_id),
                "payment_version": payment.version,
                "idempotency_key": payment.idempotency_key,
                "card_last4": payment.card_last4,
                "payment_created_at": payment.created_at,
                "attempted_at": payment.attempted_at,
            }
        case events.RefundIssued():
            refund = await session.get_one(Refund, event.refund_id)
            invoice = await session.get_one(Invoice, event.invoice_id)
            fields |= {
                "invoice_status": invoice.status,
                "refund_version": refund.version,
                "invoice_version": invoice.version,
                "idempotency_key": refund.idempotency_key,
                "reason": refund.reason,
                "provider_refund_id": refund.provider_refund_id,
            }
    return fields


async def _version(session: AsyncSession, kind: type[Record], identifier: str) -> int:
    """The record's version; it is in the session (just flushed), so no query is made."""
    return (await session.get_one(kind, identifier)).version
