"""Prometheus metrics of the event path, registered once per process."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

__all__ = [
    "BROKER_LOG_LOSSES",
    "CONSUMER_LAG",
    "CONSUMER_MESSAGES",
    "CONSUMER_PARKED",
    "OUTBOX_BACKLOG",
    "OUTBOX_OLDEST_AGE",
    "OUTBOX_PUBLISHED",
    "OUTBOX_PUBLISH_FAILURES",
    "consumer_lag",
]

OUTBOX_BACKLOG = Gauge(
    "strangler_outbox_backlog",
    "Events recorded but not yet acknowledged by the broker.",
    ["source"],
)
OUTBOX_OLDEST_AGE = Gauge(
    "strangler_outbox_oldest_unpublished_age_seconds",
    "Age of the oldest unpublished event (0 when the outbox is drained).",
    ["source"],
)
OUTBOX_PUBLISHED = Counter(
    "strangler_outbox_published", "Events the broker acknowledged.", ["source"]
)
OUTBOX_PUBLISH_FAILURES = Counter(
    "strangler_outbox_publish_failures", "Relay batches the broker did not take.", ["source"]
)
BROKER_LOG_LOSSES = Counter(
    "strangler_broker_log_losses",
    "Times a relay found the broker had lost its log, and published its outbox again.",
    ["source"],
)
CONSUMER_PARKED = Gauge(
    "strangler_consumer_parked",
    "Messages set aside until what they depend on arrives.",
    ["group"],
)
CONSUMER_LAG = Gauge(
    "strangler_consumer_lag",
    "Messages behind the partition's high-watermark.",
    ["group", "topic", "partition"],
)
CONSUMER_MESSAGES = Counter(
    "strangler_consumer_messages",
    "Messages by outcome: processed, duplicate, ignored, failed (an attempt), parked, "
    "dead_lettered.",
    ["group", "topic", "outcome"],
)


def consumer_lag(group: str) -> int | None:
    """Messages consumer group ``group`` has yet to read in this process, over every partition
    it was assigned; None before it measured any."""
    samples = [
        sample.value
        for metric in CONSUMER_LAG.collect()
        for sample in metric.samples
        if sample.labels.get("group") == group
    ]
    return int(sum(samples)) if samples else None
