"""Publishing what the other participants of an account closure would, as they would."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer
from strangler_contracts import IntegrationEvent, encode

__all__ = ["publish"]


async def publish(
    producer: AIOKafkaProducer, event: IntegrationEvent, source: str, closure_id: str
) -> None:
    """``event`` in its envelope, correlated by the closure, on its topic and key."""
    envelope = encode(event, source=source, correlation_id=closure_id)
    await producer.send_and_wait(
        event.topic, envelope.model_dump_json().encode(), key=envelope.subject.encode()
    )
