"""Who sends the e-mail an event causes: the monolith inline, or the notifications service.

While e-mail is being strangled, the gateway's ``mail`` flag says which side sends. The
flag can flip at any moment, so neither side reads it when the mail is due: the monolith
decides once, in the transaction that makes the change, sends inline only when it decided
``legacy``, and writes its decision into the event that the change publishes
(``mail_sent_by``). The notifications service sends exactly the mails of events marked
``new``. Every causing event is marked once and read the same way by every consumer and
every replay, so a flip never loses a mail and never sends one twice.

Events that are not marked: from the monolith, written before the flag existed, their mail
went out inline (``legacy``); from a service (billing, auth), there is no inline sender, so
the notifications service sends (``new``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from strangler_contracts.envelope import CloudEvent

__all__ = ["LEGACY_MONOLITH_SOURCE", "MailSender", "MailSentBy", "who_sends_mail"]

MailSender = Literal["legacy", "new"]

LEGACY_MONOLITH_SOURCE = "/legacy-monolith"
"""The CloudEvents ``source`` of everything the monolith publishes."""

MailSentBy = Annotated[
    MailSender | None,
    Field(
        description="Who sends the e-mail this change causes, decided with the change: "
        "'legacy' (the monolith sent it inline) or 'new' (the notifications service sends "
        "it from this event). Absent: the monolith's events sent inline, others' by new."
    ),
]
"""The field a causing event carries: ``mail_sent_by: MailSentBy = None``."""


def who_sends_mail(envelope: CloudEvent) -> MailSender:
    """The side that sends the mail the event in ``envelope`` causes (the module says why).

    Read from the envelope's data, so that a consumer may ask before decoding the event."""
    marked = envelope.data.get("mail_sent_by")
    if marked == "legacy":
        return "legacy"
    if marked == "new":
        return "new"
    return "legacy" if envelope.source == LEGACY_MONOLITH_SOURCE else "new"
