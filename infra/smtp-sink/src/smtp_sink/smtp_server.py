"""The SMTP side: an aiosmtpd server on the app's own event loop that files mail away."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import weakref

from aiosmtpd.smtp import SMTP, Envelope, Session

from smtp_sink.mailbox import Mailbox
from smtp_sink.message import read_message

__all__ = ["MailboxHandler", "SmtpListener", "SmtpNotListening"]

logger = logging.getLogger(__name__)

SERVER_NAME = "smtp-sink"


class SmtpNotListening(RuntimeError):
    pass


class MailboxHandler:
    """aiosmtpd handler: accept every message and keep it, for every recipient but those at
    ``refused_domain`` (550 at RCPT, a permanent refusal)."""

    def __init__(self, mailbox: Mailbox, refused_domain: str | None = None) -> None:
        self.mailbox = mailbox
        self.refused_domain = refused_domain.casefold() if refused_domain else None

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        domain = address.rpartition("@")[2].casefold()
        if self.refused_domain is not None and domain == self.refused_domain:
            return "550 5.1.1 Mailbox unavailable: this domain refuses all mail"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        message = read_message(
            envelope.mail_from or "", envelope.rcpt_tos, envelope.original_content or b""
        )
        self.mailbox.add(message)
        # %r: a subject or an address is sender-controlled text, never a raw log line.
        logger.info("mail to %r: %r", list(message.rcpt_tos), message.subject)
        return "250 Message accepted for delivery"


class SmtpListener:
    """Serves SMTP between ``start()`` and ``stop()`` on the running loop, not in a thread."""

    def __init__(self, handler: MailboxHandler, host: str, port: int) -> None:
        self.handler = handler
        self.host = host
        self.requested_port = port
        self._server: asyncio.Server | None = None
        self._sessions: weakref.WeakSet[SMTP] = weakref.WeakSet()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: self._session(loop), self.host, self.requested_port
        )
        logger.info("SMTP listening on %s:%d", *self.address)

    async def stop(self) -> None:
        """Stop listening and hang up on clients still connected."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for session in list(self._sessions):
            if session.transport is not None:
                session.transport.close()
        await server.wait_closed()

    @property
    def address(self) -> tuple[str, int]:
        """Where the listener accepts connections (the real port when 0 was asked for)."""
        if self._server is None or not self._server.sockets:
            raise SmtpNotListening("The SMTP listener is not started.")
        host, port = self._server.sockets[0].getsockname()[:2]
        return str(host), int(port)

    async def check(self) -> None:
        """Readiness: a client can connect and is greeted with ``220``."""
        host, port = self.address
        if ipaddress.ip_address(host).is_unspecified:
            host = "::1" if ":" in host else "127.0.0.1"
        async with asyncio.timeout(2):
            reader, writer = await asyncio.open_connection(host, port)
            try:
                greeting = await reader.readline()
                if not greeting.startswith(b"220"):
                    raise SmtpNotListening(f"Unexpected SMTP greeting {greeting!r}.")
                writer.write(b"QUIT\r\n")
                await writer.drain()
                await reader.readline()
            finally:
                writer.close()
                await writer.wait_closed()

    def _session(self, loop: asyncio.AbstractEventLoop) -> SMTP:
        # SMTPUTF8 (RFC 6531): mail to an internationalised address such as josé@bücher.example.
        session = SMTP(self.handler, hostname=SERVER_NAME, loop=loop, enable_SMTPUTF8=True)
        self._sessions.add(session)
        return session
