"""Publishing what the other participants of an account closure would, as they would."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer
from strangler_contracts import (
    AccountClosureRefundDeclined,
    BillingClosedForAccount,
    FarewellSentAndDataErased,
    IntegrationEvent,
    encode,
)

__all__ = ["DECLINED_REASON", "confirm", "decline", "publish"]

DECLINED_REASON = "The issuer of the card declined the refund."


async def publish(
    producer: AIOKafkaProducer, event: IntegrationEvent, source: str, closure_id: str
) -> None:
    """``event`` in its envelope, correlated by the closure, on its topic and key."""
    envelope = encode(event, source=source, correlation_id=closure_id)
    await producer.send_and_wait(
        event.topic, envelope.model_dump_json().encode(), key=envelope.subject.encode()
    )


async def confirm(producer: AIOKafkaProducer, closure_id: str, user_id: str) -> None:
    """Billing's ``done`` (nothing to refund), then notifications' farewell and erase."""
    now = datetime.now(UTC)
    billed = BillingClosedForAccount(
        closure_id=closure_id,
        user_id=user_id,
        cancelled_subscription_id=None,
        refund_id=None,
        refunded_cents=0,
        currency=None,
        closed_at=now,
    )
    await publish(producer, billed, "/billing", closure_id)
    farewell = FarewellSentAndDataErased(
        closure_id=closure_id,
        user_id=user_id,
        farewell_message_id=f"<farewell-{uuid.uuid4().hex}@test>",
        erased_records=1,
        erased_at=now,
    )
    await publish(producer, farewell, "/notifications", closure_id)


async def decline(producer: AIOKafkaProducer, closure_id: str, user_id: str) -> None:
    """Billing's answer when the card's issuer declined the refund: the closure pauses."""
    declined = AccountClosureRefundDeclined(
        closure_id=closure_id,
        user_id=user_id,
        subscription_id=f"sub-{uuid.uuid4()}",
        invoice_id=f"inv-{uuid.uuid4()}",
        amount_cents=1450,
        currency="EUR",
        reason=DECLINED_REASON,
        declined_at=datetime.now(UTC),
    )
    await publish(producer, declined, "/billing", closure_id)
