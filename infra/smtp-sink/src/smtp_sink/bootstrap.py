"""The SMTP sink's composition root: its mailbox and the SMTP listener filling it."""

from __future__ import annotations

from dataclasses import dataclass

from smtp_sink.mailbox import Mailbox
from smtp_sink.settings import Settings
from smtp_sink.smtp_server import MailboxHandler, SmtpListener

__all__ = ["Sink", "bootstrap"]


@dataclass(frozen=True)
class Sink:
    """What the sink's routes and lifespan use."""

    mailbox: Mailbox
    listener: SmtpListener


def bootstrap(settings: Settings) -> Sink:
    """The mailbox and its listener; nothing listens until ``listener.start()``."""
    mailbox = Mailbox(settings.max_messages)
    return Sink(
        mailbox,
        SmtpListener(
            MailboxHandler(mailbox, settings.refused_domain),
            settings.smtp_host,
            settings.smtp_port,
        ),
    )
