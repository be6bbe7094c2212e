"""From a CloudEvent back to its typed event, and from a typed event to its CloudEvent."""

from __future__ import annotations

from datetime import datetime

from pydantic import ValidationError

from strangler_contracts.base import IntegrationEvent
from strangler_contracts.envelope import CloudEvent
from strangler_contracts.events import (
    AccountClosed,
    AccountClosureRefundDeclined,
    AccountClosureRequested,
    BillingClosedForAccount,
    FarewellSentAndDataErased,
    InvoiceIssued,
    NotificationPreferencesChanged,
    NotificationSent,
    PasswordChanged,
    PaymentFailed,
    PaymentSucceeded,
    RefundIssued,
    SubscriptionActivated,
    SubscriptionCancelled,
    SubscriptionStarted,
    UserAccountChanged,
    UserProfileChanged,
    UserRegistered,
)

__all__ = [
    "ALL_EVENTS",
    "InvalidEventData",
    "UnknownEventType",
    "decode",
    "encode",
    "event_class_for",
]

ALL_EVENTS: tuple[type[IntegrationEvent], ...] = (
    UserRegistered,
    PasswordChanged,
    UserProfileChanged,
    UserAccountChanged,
    SubscriptionStarted,
    SubscriptionActivated,
    SubscriptionCancelled,
    InvoiceIssued,
    PaymentSucceeded,
    PaymentFailed,
    RefundIssued,
    NotificationSent,
    NotificationPreferencesChanged,
    AccountClosureRequested,
    BillingClosedForAccount,
    AccountClosureRefundDeclined,
    FarewellSentAndDataErased,
    AccountClosed,
)

_BY_TYPE = {event.cloud_event_type(): event for event in ALL_EVENTS}


class UnknownEventType(LookupError):
    """No contract describes this CloudEvents ``type`` (or this version of it)."""


class InvalidEventData(ValueError):
    """The event's ``data`` does not match its contract."""


def event_class_for(cloud_event_type: str) -> type[IntegrationEvent]:
    try:
        return _BY_TYPE[cloud_event_type]
    except KeyError:
        raise UnknownEventType(f"no contract for event type '{cloud_event_type}'") from None


def encode(
    event: IntegrationEvent,
    *,
    source: str,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    time: datetime | None = None,
) -> CloudEvent:
    """Wrap ``event`` in its envelope; its aggregate id becomes the subject."""
    extra = {"time": time} if time is not None else {}
    return CloudEvent(
        source=source,
        type=event.cloud_event_type(),
        subject=event.aggregate_id(),
        dataschema=event.data_schema(),
        correlationid=correlation_id,
        causationid=causation_id,
        data=event.model_dump(mode="json"),
        **extra,
    )


def decode(cloud_event: CloudEvent) -> IntegrationEvent:
    """The typed event inside ``cloud_event``; raises when the type or data is not a contract.

    A tolerant reader: fields this version of the contract does not know are ignored, so that
    adding an optional field is a compatible change (see ``compatibility``). Producers stay
    strict: building an event with an unknown field fails.
    """
    event_class = event_class_for(cloud_event.type)
    try:
        return event_class.model_validate(cloud_event.data, extra="ignore")
    except ValidationError as exc:
        raise InvalidEventData(f"{cloud_event.type}: {exc}") from exc
