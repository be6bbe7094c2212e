"""The sink's memory: the most recent messages, oldest dropped first when full."""

from __future__ import annotations

from collections import OrderedDict

from smtp_sink.message import ReceivedMessage

__all__ = ["Mailbox", "MessageNotFound"]


class MessageNotFound(LookupError):
    def __init__(self, message_id: str) -> None:
        super().__init__(f"No message {message_id!r}.")
        self.message_id = message_id


class Mailbox:
    def __init__(self, max_messages: int) -> None:
        self.max_messages = max_messages
        self._messages: OrderedDict[str, ReceivedMessage] = OrderedDict()

    def add(self, message: ReceivedMessage) -> None:
        self._messages[message.id] = message
        while len(self._messages) > self.max_messages:
            self._messages.popitem(last=False)

    def get(self, message_id: str) -> ReceivedMessage:
        try:
            return self._messages[message_id]
        except KeyError:
            raise MessageNotFound(message_id) from None

    def newest_first(
        self, *, limit: int, offset: int, to: str | None = None
    ) -> tuple[list[ReceivedMessage], int]:
        """One page of messages, optionally only those delivered to ``to``, and their count."""
        matching = [
            message
            for message in reversed(self._messages.values())
            if to is None or message.is_for(to)
        ]
        return matching[offset : offset + limit], len(matching)

    def clear(self) -> None:
        self._messages.clear()
