"""The published contract between the monolith and every service: integration events.

A service depends on this package, never on another service's code.
"""

from strangler_contracts.base import IntegrationEvent
from strangler_contracts.envelope import CloudEvent, new_event_id
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
from strangler_contracts.mail import MailSender, who_sends_mail
from strangler_contracts.registry import (
    ALL_EVENTS,
    InvalidEventData,
    UnknownEventType,
    decode,
    encode,
    event_class_for,
)
from strangler_contracts.topics import ALL_TOPICS, TopicSpec, dead_letter_topic

__all__ = [
    "ALL_EVENTS",
    "ALL_TOPICS",
    "AccountClosed",
    "AccountClosureRefundDeclined",
    "AccountClosureRequested",
    "BillingClosedForAccount",
    "CloudEvent",
    "FarewellSentAndDataErased",
    "IntegrationEvent",
    "InvalidEventData",
    "InvoiceIssued",
    "MailSender",
    "NotificationPreferencesChanged",
    "NotificationSent",
    "PasswordChanged",
    "PaymentFailed",
    "PaymentSucceeded",
    "RefundIssued",
    "SubscriptionActivated",
    "SubscriptionCancelled",
    "SubscriptionStarted",
    "TopicSpec",
    "UnknownEventType",
    "UserAccountChanged",
    "UserProfileChanged",
    "UserRegistered",
    "dead_letter_topic",
    "decode",
    "encode",
    "event_class_for",
    "new_event_id",
    "who_sends_mail",
]
