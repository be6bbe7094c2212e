"""A received e-mail, reduced to what a person checking it wants to see."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

__all__ = ["ReceivedMessage", "read_message"]


@dataclass(frozen=True)
class ReceivedMessage:
    id: str
    mail_from: str
    rcpt_tos: tuple[str, ...]
    subject: str | None
    to: str | None
    from_: str | None
    text: str | None
    received_at: datetime
    message_id: str | None = None

    def is_for(self, address: str) -> bool:
        return address.casefold() in (rcpt.casefold() for rcpt in self.rcpt_tos)


def read_message(mail_from: str, rcpt_tos: list[str], raw: bytes) -> ReceivedMessage:
    """Parse ``raw`` as delivered with SMTP envelope ``mail_from`` → ``rcpt_tos``."""
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    return ReceivedMessage(
        id=secrets.token_hex(8),
        mail_from=mail_from,
        rcpt_tos=tuple(rcpt_tos),
        subject=_header(parsed, "Subject"),
        to=_header(parsed, "To"),
        from_=_header(parsed, "From"),
        text=_plain_text(parsed),
        received_at=datetime.now(UTC),
        message_id=_header(parsed, "Message-ID"),
    )


def _header(message: EmailMessage, name: str) -> str | None:
    value = message[name]
    return None if value is None else str(value)


def _plain_text(message: EmailMessage) -> str | None:
    """The ``text/plain`` body with LF line ends; an unknown charset is decoded leniently."""
    part = message.get_body(preferencelist=("plain",))
    if not isinstance(part, EmailMessage):
        return None
    try:
        content = part.get_content()
    except (LookupError, UnicodeError):
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else None
    return content.replace("\r\n", "\n") if isinstance(content, str) else None
