"""What an operator sees of the event path: traces that cross the broker, and metrics."""

from __future__ import annotations

from collections import Counter

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from strangler_contracts import CloudEvent
from strangler_contracts.topics import ACCOUNTS

from tests.integration.eventing.conftest import (
    FAST_CONSUMER,
    ApplyEffects,
    EventingDatabase,
    EventPath,
    Outcomes,
    user_registered,
)

pytestmark = pytest.mark.integration

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _exposed_samples() -> Samples:
    """Every sample of the Prometheus exposition, as a scrape would read it."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(generate_latest().decode())
        for sample in family.samples
    }


def _sample(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


async def test_a_consumer_span_continues_the_producer_trace(
    database: EventingDatabase, event_path: EventPath, spans: InMemorySpanExporter
) -> None:
    with trace.get_tracer(__name__).start_as_current_span("POST /api/auth/register") as request:
        [event] = await database.record(user_registered(database.new_aggregate_id()))
    event_path.start_relay(database)
    consumer, _ = await event_path.start_consumer(database, ApplyEffects(database))

    def process_spans() -> list[ReadableSpan]:
        return [
            span
            for span in spans.get_finished_spans()
            if span.name == f"{ACCOUNTS.name} process"
            and span.attributes is not None
            and span.attributes.get("messaging.message.id") == event.id
        ]

    async def processed() -> bool:
        return bool(process_spans())

    await event_path.until(processed, "the consumer ends its span for the event")

    [span] = process_spans()
    assert span.kind is SpanKind.CONSUMER
    assert span.context is not None
    assert span.context.trace_id == request.get_span_context().trace_id
    assert span.parent is not None
    assert span.parent.span_id == request.get_span_context().span_id
    assert span.attributes is not None
    assert span.attributes["messaging.consumer.group.name"] == consumer.group_id
    assert span.attributes["cloudevents.event_type"] == event.type


async def test_metrics_expose_backlog_lag_and_outcomes(
    database: EventingDatabase, event_path: EventPath
) -> None:
    aggregates = [database.new_aggregate_id() for _ in range(4)]
    recorded: list[CloudEvent] = []
    for sequence in range(12):
        recorded += await database.record(user_registered(aggregates[sequence % 4], sequence))
    [poison] = await database.record(user_registered(aggregates[0], 12))
    source = database.source

    relay = event_path.relay(database)
    await relay.update_metrics()
    waiting = _exposed_samples()
    assert _sample(waiting, "strangler_outbox_backlog", source=source) == 13
    oldest_age = _sample(waiting, "strangler_outbox_oldest_unpublished_age_seconds", source=source)
    assert oldest_age is not None
    assert oldest_age > 0

    handler = ApplyEffects(database)
    handler.failing.add(poison.id)
    outcomes = Outcomes()
    event_path.start("relay", relay.run)
    consumer, _ = await event_path.start_consumer(database, handler, on_processed=outcomes)
    group, topic = consumer.group_id, ACCOUNTS.name

    async def caught_up() -> bool:
        lags = [
            _sample(
                _exposed_samples(),
                "strangler_consumer_lag",
                group=group,
                topic=topic,
                partition=str(p),
            )
            for p in range(ACCOUNTS.partitions)
        ]
        return (
            outcomes.of(poison.id) == ["dead_lettered"]
            and await database.have_effects(event.id for event in recorded)
            and lags == [0] * ACCOUNTS.partitions
        )

    await event_path.until(caught_up, "the consumer has caught up with every partition")
    await relay.update_metrics()

    drained = _exposed_samples()
    assert _sample(drained, "strangler_outbox_backlog", source=source) == 0
    assert _sample(drained, "strangler_outbox_oldest_unpublished_age_seconds", source=source) == 0
    assert _sample(drained, "strangler_outbox_published_total", source=source) == 13

    def messages(outcome: str) -> float | None:
        return _sample(
            drained, "strangler_consumer_messages_total", group=group, topic=topic, outcome=outcome
        )

    # Every outcome the consumer reported is counted, whatever other tests left on the topic.
    reported = Counter(outcome for _, outcome in outcomes.seen)
    assert messages("processed") == reported["processed"] >= len(recorded)
    assert messages("dead_lettered") == reported["dead_lettered"] >= 1
    assert messages("failed") == FAST_CONSUMER.max_attempts  # the poison message's attempts
