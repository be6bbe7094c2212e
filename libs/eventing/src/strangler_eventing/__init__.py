"""Events that are never lost and never applied twice.

- ``Outbox`` records integration events in the producer's own transaction;
  ``OutboxRelay`` publishes them in order and marks them once the broker acknowledged.
- ``IdempotentConsumer`` applies each event once per consumer group, retries failures and
  dead-letters what cannot be applied; ``read_dead_letters`` and ``redrive`` work the DLQ.
- Trace context travels in Kafka headers; metrics are Prometheus counters and gauges.
- ``outbox_commands`` gives a producer's command line ``outbox status | replay``.

The names load on first use, so that a command that needs one of them (`strangler events
create-topics` needs only ``ensure_topics``) does not import the database stack first.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from strangler_eventing.consumer import ConsumerSettings, EventHandler, IdempotentConsumer
    from strangler_eventing.correlation import CorrelationMiddleware, correlation_id
    from strangler_eventing.dead_letters import DeadLetter, read_dead_letters, redrive
    from strangler_eventing.inbox import inbox_table
    from strangler_eventing.kafka import (
        BrokerConfig,
        create_consumer,
        create_producer,
        ensure_topics,
        stop_client,
    )
    from strangler_eventing.metrics import consumer_lag
    from strangler_eventing.outbox import Outbox, outbox_table
    from strangler_eventing.outbox_commands import outbox_commands
    from strangler_eventing.relay import OutboxRelay, RelaySettings, outbox_backlog, replay
    from strangler_eventing.tracing import configure_tracing

__all__ = [
    "BrokerConfig",
    "ConsumerSettings",
    "CorrelationMiddleware",
    "DeadLetter",
    "EventHandler",
    "IdempotentConsumer",
    "Outbox",
    "OutboxRelay",
    "RelaySettings",
    "configure_tracing",
    "consumer_lag",
    "correlation_id",
    "create_consumer",
    "create_producer",
    "ensure_topics",
    "inbox_table",
    "outbox_backlog",
    "outbox_commands",
    "outbox_table",
    "read_dead_letters",
    "redrive",
    "replay",
    "stop_client",
]

_HOMES = {
    "ConsumerSettings": "consumer",
    "EventHandler": "consumer",
    "IdempotentConsumer": "consumer",
    "CorrelationMiddleware": "correlation",
    "correlation_id": "correlation",
    "DeadLetter": "dead_letters",
    "read_dead_letters": "dead_letters",
    "redrive": "dead_letters",
    "inbox_table": "inbox",
    "BrokerConfig": "kafka",
    "create_consumer": "kafka",
    "create_producer": "kafka",
    "ensure_topics": "kafka",
    "stop_client": "kafka",
    "consumer_lag": "metrics",
    "Outbox": "outbox",
    "outbox_table": "outbox",
    "outbox_commands": "outbox_commands",
    "OutboxRelay": "relay",
    "RelaySettings": "relay",
    "outbox_backlog": "relay",
    "replay": "relay",
    "configure_tracing": "tracing",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    # Kept, so that a submodule of the same name (`outbox_commands`) never shadows it.
    globals()[name] = value
    return value
