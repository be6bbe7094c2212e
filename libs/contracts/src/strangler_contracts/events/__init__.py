"""Every integration event, by the capability that publishes it."""

from strangler_contracts.events.account_closure import (
    AccountClosed,
    AccountClosureRefundDeclined,
    AccountClosureRequested,
    BillingClosedForAccount,
    FarewellSentAndDataErased,
)
from strangler_contracts.events.accounts import (
    PasswordChanged,
    UserAccountChanged,
    UserProfileChanged,
    UserRegistered,
)
from strangler_contracts.events.billing import (
    InvoiceIssued,
    PaymentFailed,
    PaymentSucceeded,
    RefundIssued,
    SubscriptionActivated,
    SubscriptionCancelled,
    SubscriptionStarted,
)
from strangler_contracts.events.notifications import (
    NotificationPreferencesChanged,
    NotificationSent,
)

__all__ = [
    "AccountClosed",
    "AccountClosureRefundDeclined",
    "AccountClosureRequested",
    "BillingClosedForAccount",
    "FarewellSentAndDataErased",
    "InvoiceIssued",
    "NotificationPreferencesChanged",
    "NotificationSent",
    "PasswordChanged",
    "PaymentFailed",
    "PaymentSucceeded",
    "RefundIssued",
    "SubscriptionActivated",
    "SubscriptionCancelled",
    "SubscriptionStarted",
    "UserAccountChanged",
    "UserProfileChanged",
    "UserRegistered",
]
