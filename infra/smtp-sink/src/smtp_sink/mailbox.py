"""The sink's memory: the most recent messages, oldest dropped first when full, and how
many times each ``Message-ID`` arrived.

A sender that retries after a crash may deliver one mail twice; if it gives every attempt
the same ``Message-ID`` (as it should), the repeat is recognisable. The sink counts every
``Message-ID`` it received — also those of messages it has since dropped, up to ten times
``max_messages`` of them — so a test or a
person can ask which mails arrived more than once (``GET /messages/duplicates``)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from smtp_sink.message import ReceivedMessage

__all__ = ["ARRIVALS_PER_MESSAGE", "Mailbox", "MessageNotFound", "Repeats"]

ARRIVALS_PER_MESSAGE = 10
"""Message-IDs remembered per message kept: repeats are found long after the message went."""


class MessageNotFound(LookupError):
    def __init__(self, message_id: str) -> None:
        super().__init__(f"No message {message_id!r}.")
        self.message_id = message_id


@dataclass
class Repeats:
    """Every arrival of one ``Message-ID``."""

    message_id: str
    copies: int
    first_received_at: datetime
    last_received_at: datetime


class Mailbox:
    def __init__(self, max_messages: int) -> None:
        self.max_messages = max_messages
        self._messages: OrderedDict[str, ReceivedMessage] = OrderedDict()
        self._arrivals: OrderedDict[str, Repeats] = OrderedDict()

    def add(self, message: ReceivedMessage) -> None:
        self._messages[message.id] = message
        if message.message_id is not None:
            seen = self._arrivals.get(message.message_id)
            if seen is None:
                self._arrivals[message.message_id] = Repeats(
                    message.message_id, 1, message.received_at, message.received_at
                )
            else:
                seen.copies += 1
                seen.last_received_at = message.received_at
        while len(self._messages) > self.max_messages:
            self._messages.popitem(last=False)
        while len(self._arrivals) > ARRIVALS_PER_MESSAGE * self.max_messages:
            self._arrivals.popitem(last=False)

    def get(self, message_id: str) -> ReceivedMessage:
        try:
            return self._messages[message_id]
        except KeyError:
            raise MessageNotFound(message_id) from None

    def newest_first(
        self,
        *,
        limit: int,
        offset: int,
        to: str | None = None,
        message_id: str | None = None,
    ) -> tuple[list[ReceivedMessage], int]:
        """One page of messages, optionally only those delivered to ``to`` or carrying
        ``message_id``, and their count."""
        matching = [
            message
            for message in reversed(self._messages.values())
            if (to is None or message.is_for(to))
            and (message_id is None or message.message_id == message_id)
        ]
        return matching[offset : offset + limit], len(matching)

    def copies_of(self, message_id: str | None) -> int:
        """How many messages with this ``Message-ID`` arrived (0 without one)."""
        if message_id is None:
            return 0
        seen = self._arrivals.get(message_id)
        return 0 if seen is None else seen.copies

    def duplicates(self) -> list[Repeats]:
        """Every ``Message-ID`` that arrived more than once, most recent repeat first."""
        repeated = [seen for seen in self._arrivals.values() if seen.copies > 1]
        return sorted(repeated, key=lambda seen: seen.last_received_at, reverse=True)

    def clear(self) -> None:
        self._messages.clear()
        self._arrivals.clear()
