"""Notifications' consumer reading an event, as its consumer tests watch it: the
choreography's own ``apply`` (the recipient book, a subscription's plan, the mail an event
asks for), the mail kept instead of recorded and the book's changes kept in the same list."""

from __future__ import annotations

from datetime import UTC, datetime

from notifications_service.service_layer.choreography import MailChoreography, MailRequest

__all__ = ["KeptMails", "RecipientBook"]


class KeptMails(MailChoreography):
    """The consumer's choreography; the mail an event asks for is kept, not recorded."""

    def __init__(self, mails: list[str]) -> None:
        super().__init__(switch=None, clock=lambda: datetime.now(UTC), message_id_domain="test")  # type: ignore[arg-type]
        self.mails = mails

    async def record(self, store: object, request: MailRequest, *_: object) -> None:
        assert request.user_id == "42"
        self.mails.append(request.template)


class RecipientBook:
    """What the choreography tells the recipient book, kept (a rename as "renamed")."""

    def __init__(self, mails: list[str]) -> None:
        self.mails = mails

    async def save_recipient(self, recipient: object) -> None:
        pass

    async def rename_recipient(self, user_id: str, name: str) -> None:
        assert (user_id, name) == ("42", "Ada L.")
        self.mails.append("renamed")

    async def save_subscription_plan(self, subscription_id: str, plan_id: str) -> None:
        self.mails.append(f"plan {plan_id} of {subscription_id}")
