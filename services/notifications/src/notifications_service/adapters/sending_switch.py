"""Who sends the mail an event asks for: as the mail flag decided it, or a fixed setting.

``MailFlagSwitch`` is the cutover (``strangler flags set mail new``): the monolith decides,
in the transaction of the change, which side sends, and writes it into the causing event
(``mail_sent_by``, ``strangler_contracts.mail``). This service sends exactly the mails of
events marked ``new`` — and those of services, which have no inline sender. It never reads
the flag itself: a flip between the change and the consumption changes nothing, so no mail
is lost or sent twice across it.

``SettingSwitch`` (``NOTIFICATIONS_SENDING=on|off``) sends every mail or none, whatever the
events say: for tests and demos without the monolith.
"""

from __future__ import annotations

from strangler_contracts import CloudEvent, who_sends_mail

__all__ = ["MailFlagSwitch", "SettingSwitch"]


class MailFlagSwitch:
    """The mails whose causing event says ``new`` (``who_sends_mail``)."""

    async def sends(self, template: str, user_id: str, envelope: CloudEvent) -> bool:
        return who_sends_mail(envelope) == "new"


class SettingSwitch:
    """Every mail (``on``) or none (``off``: the monolith sends them inline)."""

    def __init__(self, sending: bool) -> None:
        self.sending = sending

    async def sends(self, template: str, user_id: str, envelope: CloudEvent) -> bool:
        return self.sending
