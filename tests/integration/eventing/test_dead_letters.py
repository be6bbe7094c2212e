"""What cannot be applied is parked on ``<topic>.dlq`` with the reason, and the partition moves
on; once the cause is fixed, a redrive applies it exactly once."""

from __future__ import annotations

import json

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from strangler_contracts import CloudEvent, UserRegistered, encode
from strangler_contracts.topics import ACCOUNTS
from strangler_eventing import DeadLetter, read_dead_letters, redrive

from tests.integration.eventing.conftest import (
    FAST_CONSUMER,
    ApplyEffects,
    EventingDatabase,
    EventPath,
    Outcomes,
    user_registered,
)
from tests.support.broker_records import event_id_in

pytestmark = pytest.mark.integration

READ_SECONDS = 30.0


async def _dead_letters_of(
    event_path: EventPath, group: str, key: str | None = None
) -> list[DeadLetter]:
    return [
        letter
        for letter in await read_dead_letters(event_path.config, ACCOUNTS.name, READ_SECONDS)
        if letter.info.get("consumer-group") == group
        and (key is None or letter.key == key.encode())
    ]


async def test_a_poison_message_is_dead_lettered_after_its_attempts_and_the_partition_keeps_flowing(
    database: EventingDatabase, event_path: EventPath, spans: InMemorySpanExporter
) -> None:
    aggregate = database.new_aggregate_id()
    with trace.get_tracer(__name__).start_as_current_span("POST /api/auth/register") as request:
        [poison] = await database.record(user_registered(aggregate, 0))
    context = request.get_span_context()
    behind: list[CloudEvent] = []
    for sequence in range(1, 6):
        behind += await database.record(user_registered(aggregate, sequence))
    handler = ApplyEffects(database)
    handler.failing.add(poison.id)
    outcomes = Outcomes()
    event_path.start_relay(database)
    consumer, _ = await event_path.start_consumer(database, handler, on_processed=outcomes)

    async def behind_applied() -> bool:
        return await database.have_effects(event.id for event in behind)

    await event_path.until(behind_applied, "the events behind the poison message are applied")

    assert await database.effect_counts() == dict.fromkeys((e.id for e in behind), 1)
    assert outcomes.of(poison.id) == ["dead_lettered"]
    [original] = outcomes.records_of(poison.id)
    [letter] = [
        letter
        for letter in await _dead_letters_of(event_path, consumer.group_id)
        if event_id_in(letter.value) == poison.id
    ]
    assert letter.topic == f"{ACCOUNTS.name}.dlq"
    assert letter.key == aggregate.encode()
    assert letter.value == original.value
    assert letter.info["reason"] == "handler-failed"
    assert letter.info["error"] == f"RuntimeError: the handler cannot apply {poison.id}"
    assert letter.info["attempts"] == str(FAST_CONSUMER.max_attempts)
    assert letter.info["original-topic"] == ACCOUNTS.name
    assert letter.info["original-partition"] == str(original.partition)
    assert letter.info["original-offset"] == str(original.offset)
    original_headers = dict(letter.original_headers)
    assert original_headers == dict(original.headers)
    assert original_headers["ce_type"] == UserRegistered.cloud_event_type().encode()
    assert original_headers["traceparent"] == (
        f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}".encode()
    )


async def test_malformed_and_unknown_version_messages_are_dead_lettered_with_a_reason(
    database: EventingDatabase, event_path: EventPath
) -> None:
    aggregate = database.new_aggregate_id()
    valid = encode(user_registered(aggregate), source=database.source).model_dump(mode="json")
    unknown_version = {**valid, "id": f"{aggregate}-v99", "type": valid["type"][:-2] + "v99"}
    invalid_data = {**valid, "id": f"{aggregate}-invalid", "data": {"user_id": aggregate}}
    producer = await event_path.started_producer()
    for value in (
        b"{this is not JSON",
        json.dumps(unknown_version).encode(),
        json.dumps(invalid_data).encode(),
    ):
        await producer.send_and_wait(ACCOUNTS.name, value, key=aggregate.encode())
    [good] = await database.record(user_registered(aggregate, 1))  # same key: right behind them
    outcomes = Outcomes()
    event_path.start_relay(database)
    consumer, _ = await event_path.start_consumer(
        database, ApplyEffects(database), on_processed=outcomes
    )

    async def good_applied() -> bool:
        return await database.have_effects([good.id])

    await event_path.until(good_applied, "the event behind the bad messages is applied")

    assert outcomes.for_key(aggregate) == ["dead_lettered"] * 3 + ["processed"]
    letters = await _dead_letters_of(event_path, consumer.group_id, key=aggregate)
    assert [letter.info["reason"] for letter in letters] == [
        "malformed",
        "unknown-event-type",
        "invalid-event-data",
    ]
    assert [letter.info["attempts"] for letter in letters] == ["0", "0", "0"]
    assert letters[0].value == b"{this is not JSON"
    assert "not a CloudEvent" in letters[0].info["error"]
    assert unknown_version["type"] in letters[1].info["error"]
    assert "registered_at" in letters[2].info["error"]
    assert await database.effect_counts() == {good.id: 1}


async def test_redriving_a_dead_letter_applies_it_once_the_handler_is_fixed(
    database: EventingDatabase, event_path: EventPath
) -> None:
    aggregate = database.new_aggregate_id()
    [poison] = await database.record(user_registered(aggregate, 0))
    handler = ApplyEffects(database)
    handler.failing.add(poison.id)
    outcomes = Outcomes()
    event_path.start_relay(database)
    consumer, _ = await event_path.start_consumer(database, handler, on_processed=outcomes)

    async def dead_lettered() -> bool:
        return outcomes.of(poison.id) == ["dead_lettered"]

    await event_path.until(dead_lettered, "the failing event is dead-lettered")
    assert await database.effect_counts() == {}

    handler.failing.clear()  # the fix is deployed
    letters = await _dead_letters_of(event_path, consumer.group_id, key=aggregate)
    assert await redrive(event_path.config, letters) == 1
    assert await redrive(event_path.config, letters) == 1  # an operator who clicks twice
    [behind] = await database.record(user_registered(aggregate, 1))  # after both, same key

    async def behind_applied() -> bool:
        return await database.have_effects([behind.id])

    await event_path.until(behind_applied, "an event recorded after the redrive is applied")

    assert await database.effect_counts() == {poison.id: 1, behind.id: 1}
    assert outcomes.of(poison.id) == ["dead_lettered", "processed", "duplicate"]
    _, redriven, _ = outcomes.records_of(poison.id)
    assert dict(redriven.headers)["dlq-redriven-from"] == letters[0].ref.encode()
