"""Outgoing e-mail: an SMTP mailer for real runs, a recording one for unit tests."""

from __future__ import annotations

from dataclasses import dataclass
from email import errors, policy
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Protocol

import aiosmtplib
from http_platform.edge_input import one_line
from strangler_identity import UnacceptableEmailAddress, parse_email_address

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
    """Delivers over SMTP. Nothing the user typed reaches the wire raw: the Subject is one
    printable line, encoded by the e-mail package's header registry, and the recipient is
    the address as ``strangler_identity`` accepted it (SMTPUTF8 only when its local part is
    not ASCII; aiosmtplib asks the server for it then). Any failure, writing the message
    included, is ``MailDeliveryFailed``: the caller records it and carries on."""

    def __init__(self, host: str, port: int, sender: str, timeout_seconds: float) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._timeout = timeout_seconds

    async def send(self, mail: OutgoingMail) -> None:
        try:
            message = self._message(mail)
        except (ValueError, TypeError, UnicodeError, errors.MessageError) as exc:
            written = one_line(str(exc))
            raise MailDeliveryFailed(f"the mail could not be written: {written}") from exc
        try:
            await aiosmtplib.send(
                message,
                hostname=self._host,
                port=self._port,
                timeout=self._timeout,
                start_tls=False,
                use_tls=False,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError, UnicodeError) as exc:
            raise MailDeliveryFailed(f"{type(exc).__name__}: {one_line(str(exc))}") from exc

    def _message(self, mail: OutgoingMail) -> EmailMessage:
        try:
            recipient = parse_email_address(mail.to)
        except UnacceptableEmailAddress as exc:
            raise ValueError(f"the recipient is not an acceptable address: {exc}") from exc
        message = EmailMessage(policy=policy.SMTP)
        message["From"] = self._sender
        local_part, _, domain = recipient.deliverable.rpartition("@")
        message["To"] = Address(username=local_part, domain=domain)
        message["Subject"] = one_line(mail.subject)
        message.set_content(mail.body)
        return message


class RecordingMailer:
    """Keeps mails in memory; set ``fail_with`` to simulate an unreachable SMTP server."""

    def __init__(self) -> None:
        self.sent: list[OutgoingMail] = []
        self.fail_with: str | None = None

    async def send(self, mail: OutgoingMail) -> None:
        if self.fail_with is not None:
            raise MailDeliveryFailed(self.fail_with)
        self.sent.append(mail)
