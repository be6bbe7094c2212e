"""Closing an account: a choreographed saga, told by the events each participant publishes.

Nobody orchestrates it. Each participant reacts to the events before it and publishes its own
outcome; every event of one closure carries its ``closure_id``, which is also the CloudEvents
``correlationid`` of all of them, so the closure can be reconstructed from the log alone::

    accounts.account-closure-requested       (accounts: the user asked to close the account)
      └─▶ billing.billing-closed-for-account  (billing: subscription cancelled, the unused part
          │                                    of the paid period refunded)
          │   or billing.account-closure-refund-declined  (the provider declined the refund:
          │                                                the closure pauses, the user is told)
          └─▶ notifications.farewell-sent-and-data-erased  (farewell mail sent, then the
              │                                             user's data erased from its records)
              └─▶ accounts.account-closed     (accounts: credentials and profile erased, once
                                               billing and notifications both confirmed)

The accounts side — whoever holds the credentials — is played by the side that serves
``/api/users`` (``DELETE /api/users/me``): the monolith or the auth service, on one mechanism
(``strangler_closures``), publishing the same events. A user resumes a closure a declined
refund paused (``POST /api/users/me/closure/resume``): ``AccountClosureRequested`` again, the
same ``closure_id``, the next ``attempt``.

Each event lives on its own capability's topic, keyed by user id like every other event of
that capability, so a user's closure stays in order with the rest of their history.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from strangler_contracts.base import IntegrationEvent
from strangler_contracts.topics import ACCOUNTS, BILLING, NOTIFICATIONS

__all__ = [
    "AccountClosed",
    "AccountClosureRefundDeclined",
    "AccountClosureRequested",
    "BillingClosedForAccount",
    "FarewellSentAndDataErased",
]

_CLOSURE_ID = Field(
    min_length=1,
    description="The closure this event belongs to; also the envelope's correlationid.",
)


class AccountClosureRequested(IntegrationEvent):
    """A user asked to close their account. Billing starts its part from this."""

    name = "accounts.account-closure-requested"
    version = 1
    topic = ACCOUNTS.name
    aggregate_field = "user_id"

    closure_id: str = _CLOSURE_ID
    user_id: str
    email: str = Field(description="The account's address when it asked; erased everywhere after.")
    display_name: str
    requested_at: datetime
    attempt: int = Field(
        default=1,
        ge=1,
        description="1 for the request; counted up each time the user resumes a closure a "
        "declined refund paused, so billing settles again (a new refund under a new key).",
    )


class BillingClosedForAccount(IntegrationEvent):
    """Billing is done with a closing account: its subscription (if any) is cancelled and
    the unused part of the paid period went back to the card."""

    name = "billing.billing-closed-for-account"
    version = 1
    topic = BILLING.name
    aggregate_field = "user_id"

    closure_id: str = _CLOSURE_ID
    user_id: str
    cancelled_subscription_id: str | None = Field(
        description="The subscription cancelled for the closure; None when there was none."
    )
    refund_id: str | None = Field(description="The refund of the unused part; None if nothing.")
    refunded_cents: int = Field(ge=0)
    currency: str | None = None
    closed_at: datetime


class AccountClosureRefundDeclined(IntegrationEvent):
    """The provider declined the refund of the unused part of the period: the closure is
    paused, and the user is told. The subscription stays cancelled."""

    name = "billing.account-closure-refund-declined"
    version = 1
    topic = BILLING.name
    aggregate_field = "user_id"

    closure_id: str = _CLOSURE_ID
    user_id: str
    subscription_id: str
    invoice_id: str
    amount_cents: int = Field(ge=1, description="The refund that was declined.")
    currency: str
    reason: str = Field(description="The provider's words, as a person can read them.")
    declined_at: datetime


class FarewellSentAndDataErased(IntegrationEvent):
    """Notifications sent the farewell mail, then erased the user's personal data (mail
    history, preferences, address) from its records."""

    name = "notifications.farewell-sent-and-data-erased"
    version = 1
    topic = NOTIFICATIONS.name
    aggregate_field = "user_id"

    closure_id: str = _CLOSURE_ID
    user_id: str
    farewell_message_id: str | None = Field(
        description="The farewell mail's Message-ID; None when none could be sent."
    )
    erased_records: int = Field(ge=0, description="How many records about the user were erased.")
    erased_at: datetime


class AccountClosed(IntegrationEvent):
    """The account is gone: auth erased the credentials and the profile, after billing and
    notifications confirmed their parts. The last event of a closure."""

    name = "accounts.account-closed"
    version = 1
    topic = ACCOUNTS.name
    aggregate_field = "user_id"

    closure_id: str = _CLOSURE_ID
    user_id: str
    closed_at: datetime


def erased_email(user_id: str) -> str:
    """The address a closed account keeps in every side's records once its own is erased:
    the same on each side, so the sides still agree record for record."""
    return f"closed-{user_id}@closed.invalid"
