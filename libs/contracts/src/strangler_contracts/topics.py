"""Every topic, its partition count, and its dead-letter topic. Created explicitly at start."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ACCOUNTS",
    "ALL_TOPICS",
    "BILLING",
    "CREDENTIALS",
    "NOTIFICATIONS",
    "TopicSpec",
    "dead_letter_topic",
]


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    description: str


ACCOUNTS = TopicSpec("strangler.accounts", 4, "Users: registration and account changes.")
CREDENTIALS = TopicSpec(
    "strangler.credentials",
    4,
    "Account records with their password hashes, keyed by user: only the sides that hold "
    "credentials (the monolith, auth) read it.",
)
BILLING = TopicSpec(
    "strangler.billing", 4, "Subscriptions, invoices, payments and refunds, keyed by customer."
)
NOTIFICATIONS = TopicSpec("strangler.notifications", 4, "E-mails sent to users, keyed by user.")

DEAD_LETTER_SUFFIX = ".dlq"


def dead_letter_topic(topic: str) -> str:
    return topic + DEAD_LETTER_SUFFIX


def _with_dead_letters(*specs: TopicSpec) -> tuple[TopicSpec, ...]:
    dead_letters = tuple(
        TopicSpec(dead_letter_topic(s.name), 1, f"Dead letters of {s.name}.") for s in specs
    )
    return (*specs, *dead_letters)


ALL_TOPICS = _with_dead_letters(ACCOUNTS, CREDENTIALS, BILLING, NOTIFICATIONS)
