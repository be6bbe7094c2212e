"""What a user asks of ``/api/notifications``: their mails and their preferences; and the
templates, which anyone may preview."""

from __future__ import annotations

from collections.abc import Mapping

from notifications_service.domain.errors import NotificationNotFound, UnknownTemplate
from notifications_service.domain.mails import Notification
from notifications_service.domain.preferences import Preferences
from notifications_service.domain.templates import TEMPLATES, Template
from notifications_service.service_layer.choreography import (
    RenderedMail,
    preferences_changed,
    render,
)
from notifications_service.service_layer.ports import Clock, NotificationStore, Stores

__all__ = ["Notifications"]


class Notifications:
    def __init__(self, stores: Stores, clock: Clock) -> None:
        self.stores = stores
        self.clock = clock

    async def notifications_of(
        self, user_id: str, limit: int, offset: int
    ) -> tuple[list[Notification], int]:
        """Every mail sent, pending or suppressed for the user, newest first."""
        async with self.stores() as store:
            return await store.notifications_of(user_id, limit, offset)

    async def notification(self, user_id: str, notification_id: str) -> Notification:
        """One of the user's mails; another user's is as unknown as a missing one."""
        async with self.stores() as store:
            notification = await store.notification(notification_id)
        if notification is None or notification.user_id != user_id:
            raise NotificationNotFound(notification_id)
        return notification

    async def preferences(self, user_id: str) -> Preferences:
        """The user's choices; the defaults (both on) are stored the first time, as the
        monolith does, and published like any change (the monolith keeps a copy)."""
        async with self.stores() as store:
            preferences = await store.preferences(user_id)
            if preferences is None:
                preferences = Preferences.defaults(user_id, self.clock())
                await self._save(store, preferences)
            return preferences

    async def choose(
        self, user_id: str, *, account_emails: bool, billing_emails: bool
    ) -> Preferences:
        """Opt in or out of account and billing e-mails."""
        preferences = Preferences(user_id, account_emails, billing_emails, self.clock())
        async with self.stores() as store:
            await self._save(store, preferences)
        return preferences

    @staticmethod
    async def _save(store: NotificationStore, preferences: Preferences) -> None:
        version = await store.save_preferences(preferences)
        await store.publish(preferences_changed(preferences, version), preferences.updated_at)

    @staticmethod
    def templates() -> list[Template]:
        return list(TEMPLATES.values())

    @staticmethod
    def template(name: str) -> Template:
        template = TEMPLATES.get(name)
        if template is None:
            raise UnknownTemplate(name)
        return template

    def preview(self, name: str, values: Mapping[str, str] | None = None) -> RenderedMail:
        """The mail ``name`` as a user would get it, with the template's sample values (or
        ``values`` where given)."""
        template = self.template(name)
        return render(name, {**template.samples, **(values or {})})
