"""Who sends the mail, as a setting (``NOTIFICATIONS_SENDING``) until the mail flag decides."""

from __future__ import annotations

from strangler_contracts import CloudEvent

__all__ = ["SettingSwitch"]


class SettingSwitch:
    """Every mail (``on``) or none (``off``: the monolith sends them inline)."""

    def __init__(self, sending: bool) -> None:
        self.sending = sending

    async def sends(self, template: str, user_id: str, envelope: CloudEvent) -> bool:
        return self.sending
