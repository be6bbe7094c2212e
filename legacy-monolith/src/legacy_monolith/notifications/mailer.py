"""Outgoing e-mail: an SMTP mailer for real runs, a recording one for unit tests."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

import aiosmtplib

__all__ = ["MailDeliveryFailed", "Mailer", "OutgoingMail", "RecordingMailer", "SmtpMailer"]


@dataclass(frozen=True)
class OutgoingMail:
    to: str
    subject: str
    body: str


class MailDeliveryFailed(Exception):
    pass


class Mailer(Protocol):
    async def send(self, mail: OutgoingMail) -> None: ...


class SmtpMailer:
    def __init__(self, host: str, port: int, sender: str, timeout_seconds: float) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._timeout = timeout_seconds

    async def send(self, mail: OutgoingMail) -> None:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message.set_content(mail.body)
        try:
            await aiosmtplib.send(
                message,
                hostname=self._host,
                port=self._port,
                timeout=self._timeout,
                start_tls=False,
                use_tls=False,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise MailDeliveryFailed(f"{type(exc).__name__}: {exc}") from exc


class RecordingMailer:
    """Keeps mails in memory; set ``fail_with`` to simulate an unreachable SMTP server."""

    def __init__(self) -> None:
        self.sent: list[OutgoingMail] = []
        self.fail_with: str | None = None

    async def send(self, mail: OutgoingMail) -> None:
        if self.fail_with is not None:
            raise MailDeliveryFailed(self.fail_with)
        self.sent.append(mail)
