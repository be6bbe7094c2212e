"""Mail over SMTP, on a few connections kept open between mails.

Written as the monolith writes it (``From``, ``To`` as ``strangler_identity`` accepted the
address, a one-line ``Subject``, a text body), plus the ``Message-ID`` the send ledger
chose, so every attempt at one mail carries the same. The server's answer is sorted into
what the sender does next: a 5xx refusal is for good (``MailRefused``); anything else that
is not an acceptance — no connection, a timeout, a 4xx, a dropped session — is for now
(``MailNotDelivered``), and the connection is opened afresh next time.
"""

from __future__ import annotations

import asyncio
from email import errors, policy
from email.headerregistry import Address
from email.message import EmailMessage

import aiosmtplib
from http_platform.edge_input import one_line
from strangler_identity import UnacceptableEmailAddress, parse_email_address

from notifications_service.service_layer.ports import MailNotDelivered, MailRefused, OutgoingMail

__all__ = ["SmtpConnection", "SmtpMailer", "write_message"]

PERMANENT = 500


def write_message(mail: OutgoingMail, sender: str) -> EmailMessage:
    """The message as it goes on the wire; ``ValueError`` when it cannot be written."""
    try:
        recipient = parse_email_address(mail.to)
    except UnacceptableEmailAddress as exc:
        raise ValueError(f"the recipient is not an acceptable address: {exc}") from exc
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = sender
    local_part, _, domain = recipient.deliverable.rpartition("@")
    message["To"] = Address(username=local_part, domain=domain)
    message["Subject"] = one_line(mail.subject)
    message["Message-ID"] = mail.message_id
    message.set_content(mail.body)
    return message


class SmtpMailer:
    """Up to ``connections`` mails handed over at once, each on a connection of its own."""

    def __init__(
        self, host: str, port: int, sender: str, timeout_seconds: float, connections: int = 1
    ) -> None:
        self._idle: asyncio.Queue[SmtpConnection] = asyncio.Queue()
        self._all = [
            SmtpConnection(host, port, sender, timeout_seconds) for _ in range(connections)
        ]
        for connection in self._all:
            self._idle.put_nowait(connection)

    async def send(self, mail: OutgoingMail) -> None:
        connection = await self._idle.get()
        try:
            await connection.send(mail)
        finally:
            self._idle.put_nowait(connection)

    async def aclose(self) -> None:
        for connection in self._all:
            await connection.aclose()


class SmtpConnection:
    """One SMTP session, opened when first needed and again after it was lost."""

    def __init__(self, host: str, port: int, sender: str, timeout_seconds: float) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._timeout = timeout_seconds
        self._client: aiosmtplib.SMTP | None = None
        self._lock = asyncio.Lock()

    async def send(self, mail: OutgoingMail) -> None:
        try:
            message = write_message(mail, self._sender)
        except (ValueError, TypeError, UnicodeError, errors.MessageError) as exc:
            raise MailRefused(f"the mail could not be written: {one_line(str(exc))}") from exc
        async with self._lock:
            try:
                client = await self._connected()
                await client.send_message(message)
            except aiosmtplib.SMTPRecipientsRefused as exc:
                codes = [refusal.code for refusal in exc.recipients]
                await self._reset()
                self._raise_for(min(codes, default=0), exc)
            except aiosmtplib.SMTPResponseException as exc:
                await self._reset()
                self._raise_for(exc.code, exc)
            except (aiosmtplib.SMTPException, OSError, TimeoutError, UnicodeError) as exc:
                await self._drop()
                raise MailNotDelivered(_described(exc)) from exc

    @staticmethod
    def _raise_for(code: int, exc: Exception) -> None:
        if code >= PERMANENT:
            raise MailRefused(_described(exc)) from exc
        raise MailNotDelivered(_described(exc)) from exc

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._client is not None and self._client.is_connected:
            return self._client
        client = aiosmtplib.SMTP(
            hostname=self._host,
            port=self._port,
            timeout=self._timeout,
            start_tls=False,
            use_tls=False,
        )
        await client.connect()
        self._client = client
        return client

    async def _reset(self) -> None:
        """After a refused transaction: RSET keeps the connection usable; if it fails, drop it."""
        if self._client is None:
            return
        try:
            await self._client.rset()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            await self._drop()

    async def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    async def aclose(self) -> None:
        async with self._lock:
            client, self._client = self._client, None
            if client is not None and client.is_connected:
                try:
                    await client.quit()
                except (aiosmtplib.SMTPException, OSError, TimeoutError):
                    client.close()


def _described(exc: Exception) -> str:
    return f"{type(exc).__name__}: {one_line(str(exc))}"
