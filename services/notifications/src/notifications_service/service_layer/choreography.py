"""Mail caused by events: which event asks for which mail, and recording it to be sent.

Nobody calls notifications. The monolith, billing and auth publish what happened; this
module turns each event into the mail the monolith sends today in the request that
causes it — the same template, the same values — and records it in the send ledger, in the
consumer's own transaction (so the event is marked processed exactly when its mail is
recorded). The mail sender delivers it afterwards.

- ``UserRegistered``: who the user is (``recipients``), and the welcome mail.
- ``PasswordChanged``: the password-changed mail. ``UserProfileChanged``: the new name.
- ``SubscriptionStarted``: which plan the subscription is of, for its invoices' mails.
- ``InvoiceIssued``, ``PaymentSucceeded``, ``PaymentFailed``, ``RefundIssued``: their mails.

The monolith sends no mail when a subscription starts, is activated or is cancelled, nor
for anything else not listed here; neither does this service. A billing event can come
before the registration of its user (the two travel on different topics): the event waits
(``RecipientNotYetKnown``, which the consumer parks) rather than lose its mail.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from http_platform.edge_input import one_line
from strangler_contracts import (
    CloudEvent,
    IntegrationEvent,
    InvoiceIssued,
    NotificationPreferencesChanged,
    NotificationSent,
    PasswordChanged,
    PaymentFailed,
    PaymentSucceeded,
    RefundIssued,
    SubscriptionStarted,
    UserProfileChanged,
    UserRegistered,
)

from notifications_service.domain.errors import RecipientNotYetKnown, UnknownTemplate
from notifications_service.domain.mails import (
    ORIGIN,
    LedgerEntry,
    Notification,
    message_id_for,
    notification_id_for,
)
from notifications_service.domain.preferences import Preferences
from notifications_service.domain.templates import Template, template_named
from notifications_service.service_layer.ports import (
    Clock,
    NotificationStore,
    Recipient,
    SendingSwitch,
)

__all__ = [
    "HANDLED_EVENTS",
    "MailChoreography",
    "MailRequest",
    "RenderedMail",
    "format_money",
    "mail_request_for",
    "notification_sent",
    "plan_name",
    "preferences_changed",
    "render",
]

HANDLED_EVENTS: Final[tuple[type[IntegrationEvent], ...]] = (
    UserRegistered,
    PasswordChanged,
    UserProfileChanged,
    SubscriptionStarted,
    InvoiceIssued,
    PaymentSucceeded,
    PaymentFailed,
    RefundIssued,
)

PLAN_NAMES: Final[Mapping[str, str]] = {"starter": "Starter", "pro": "Pro", "business": "Business"}
"""The plan catalogue's names (reference data both sides hold identically, see billing's
``service_layer/catalogue.py``); an invoice's mail names its plan."""


def plan_name(plan_id: str | None) -> str:
    if plan_id is None:
        return "your plan"
    return PLAN_NAMES.get(plan_id, plan_id)


def format_money(cents: int, currency: str) -> str:
    """The monolith's way of writing an amount: ``29.00 EUR``."""
    return f"{cents / 100:.2f} {currency.upper()}"


@dataclass(frozen=True)
class MailRequest:
    """One mail an event asks for: the template and its values besides the recipient's."""

    template: str
    user_id: str
    values: Mapping[str, str] = field(default_factory=dict)
    needs_plan_of: str | None = None
    """A subscription whose plan's name the mail shows (``plan_name``)."""


def mail_request_for(event: IntegrationEvent) -> MailRequest | None:
    """The mail ``event`` asks for, if any."""
    match event:
        case UserRegistered():
            return MailRequest("welcome", event.user_id)
        case PasswordChanged():
            return MailRequest("password_changed", event.user_id)
        case InvoiceIssued():
            return MailRequest(
                "invoice_issued",
                event.user_id,
                {
                    "invoice_id": event.invoice_id,
                    "amount": format_money(event.amount_cents, event.currency),
                    "period": f"{event.period_start:%Y-%m-%d} to {event.period_end:%Y-%m-%d}",
                },
                needs_plan_of=event.subscription_id,
            )
        case PaymentSucceeded():
            return MailRequest(
                "payment_succeeded",
                event.user_id,
                {
                    "invoice_id": event.invoice_id,
                    "amount": format_money(event.amount_cents, event.currency),
                },
            )
        case PaymentFailed():
            return MailRequest(
                "payment_failed",
                event.user_id,
                {
                    "invoice_id": event.invoice_id,
                    "amount": format_money(event.amount_cents, event.currency),
                    "reason": event.failure_message,
                },
            )
        case RefundIssued():
            return MailRequest(
                "refund_issued",
                event.user_id,
                {
                    "invoice_id": event.invoice_id,
                    "amount": format_money(event.amount_cents, event.currency),
                },
            )
    return None


@dataclass(frozen=True)
class RenderedMail:
    template: Template
    subject: str
    body: str


def render(name: str, values: Mapping[str, object]) -> RenderedMail:
    """The mail ``name`` with ``values``: the subject one printable line, as the monolith's."""
    template = template_named(name)
    if template is None:
        raise UnknownTemplate(name)
    subject, body = template.fill(values)
    return RenderedMail(template, one_line(subject), body)


class MailChoreography:
    """Applies one event, in the consumer's transaction (``store``)."""

    def __init__(self, switch: SendingSwitch, clock: Clock, message_id_domain: str) -> None:
        self.switch = switch
        self.clock = clock
        self.message_id_domain = message_id_domain

    async def apply(
        self, store: NotificationStore, event: IntegrationEvent, envelope: CloudEvent
    ) -> None:
        match event:
            case UserRegistered():
                await store.save_recipient(
                    Recipient(event.user_id, event.email, event.display_name, event.registered_at)
                )
            case UserProfileChanged():
                await store.rename_recipient(event.user_id, event.display_name)
            case SubscriptionStarted():
                await store.save_subscription_plan(event.subscription_id, event.plan_id)
        request = mail_request_for(event)
        if request is not None:
            await self.record(store, request, envelope, event.topic)

    async def record(
        self, store: NotificationStore, request: MailRequest, envelope: CloudEvent, topic: str
    ) -> None:
        """Record the mail ``request`` asks for, pending or suppressed; nothing if it is
        recorded already or the monolith sends it."""
        if await store.has_mail(envelope.id, request.template):
            return
        if not await self.switch.sends(request.template, request.user_id, envelope):
            return
        recipient = await store.recipient(request.user_id)
        if recipient is None:
            raise RecipientNotYetKnown(request.user_id)
        values: dict[str, object] = {
            "name": recipient.name,
            "email": recipient.email,
            **request.values,
        }
        if request.needs_plan_of is not None:
            values["plan_name"] = plan_name(await store.plan_of(request.needs_plan_of))
        rendered = render(request.template, values)
        now = self.clock()
        preferences = await store.preferences(request.user_id) or Preferences.defaults(
            request.user_id, now
        )
        allowed = preferences.allows(rendered.template.category)
        notification = Notification(
            id=notification_id_for(envelope.id, request.template),
            user_id=request.user_id,
            kind=request.template,
            category=rendered.template.category,
            recipient=recipient.email,
            subject=rendered.subject,
            body=rendered.body,
            status="pending" if allowed else "suppressed",
            created_at=now,
        )
        entry = LedgerEntry(
            event_id=envelope.id,
            template=request.template,
            notification_id=notification.id,
            user_id=request.user_id,
            state="pending" if allowed else "suppressed",
            message_id=message_id_for(envelope.id, request.template, self.message_id_domain),
            next_attempt_at=now,
            created_at=now,
            event_topic=topic,
            event=envelope.model_dump_json(),
        )
        await store.add_mail(notification, entry)
        if not allowed:
            await store.publish(notification_sent(notification, now), now)


def notification_sent(notification: Notification, at: datetime) -> NotificationSent:
    """The contract event the monolith publishes for every mail it handled, with the whole
    record and its version, so that the monolith keeps a copy (two-way sync)."""
    status = notification.status
    if status == "pending":
        raise ValueError("a pending mail is not handled yet")
    return NotificationSent(
        notification_id=notification.id,
        user_id=notification.user_id,
        kind=notification.kind,
        recipient=notification.recipient,
        subject=notification.subject,
        status=status,
        occurred_at=at,
        origin=ORIGIN,
        notification_version=notification.version,
        category=notification.category.value,
        body=notification.body,
        error=notification.error,
        created_at=notification.created_at,
        sent_at=notification.sent_at,
    )


def preferences_changed(preferences: Preferences, version: int) -> NotificationPreferencesChanged:
    """What a user chose, as stored here at ``version``, for the monolith's copy."""
    return NotificationPreferencesChanged(
        user_id=preferences.user_id,
        account_emails=preferences.account_emails,
        billing_emails=preferences.billing_emails,
        updated_at=preferences.updated_at,
        origin=ORIGIN,
        preferences_version=version,
    )
