"""Every contract event travels in a CloudEvents envelope and comes back as the same event."""

from __future__ import annotations

import json
import uuid

import pytest
from pydantic import ValidationError
from strangler_contracts import (
    ALL_EVENTS,
    CloudEvent,
    IntegrationEvent,
    InvalidEventData,
    UnknownEventType,
    UserRegistered,
    decode,
    encode,
)

from tests.support.contract_events import CONTRACTS_LIB, example_events

CLOUDEVENTS_REQUIRED = ("specversion", "id", "source", "type")
SOURCE = "/legacy-monolith"


def _by_name(event: IntegrationEvent) -> str:
    return event.name


def _over_the_wire(envelope: CloudEvent) -> CloudEvent:
    return CloudEvent.model_validate_json(envelope.model_dump_json())


def test_the_examples_cover_every_event() -> None:
    assert {type(event) for event in example_events()} == set(ALL_EVENTS)


def test_every_event_type_names_one_contract() -> None:
    types = [event.cloud_event_type() for event in ALL_EVENTS]
    assert len(set(types)) == len(types)


@pytest.mark.parametrize("event", example_events(), ids=_by_name)
def test_every_event_survives_a_round_trip_through_its_envelope(event: IntegrationEvent) -> None:
    received = _over_the_wire(encode(event, source=SOURCE))

    assert decode(received) == event


@pytest.mark.parametrize("event", example_events(), ids=_by_name)
def test_the_envelope_carries_every_required_cloudevents_attribute(
    event: IntegrationEvent,
) -> None:
    correlation, causation = str(uuid.uuid4()), str(uuid.uuid4())

    envelope = encode(event, source=SOURCE, correlation_id=correlation, causation_id=causation)
    written = json.loads(envelope.model_dump_json())

    assert all(written[attribute] for attribute in CLOUDEVENTS_REQUIRED)
    assert written["specversion"] == "1.0"
    assert written["type"] == f"dev.strangler-fig.{event.name}.v{event.version}"
    assert written["source"] == SOURCE
    assert written["subject"] == event.aggregate_id()
    assert written["time"]
    assert written["datacontenttype"] == "application/json"
    assert written["correlationid"] == correlation
    assert written["causationid"] == causation


@pytest.mark.parametrize("event", example_events(), ids=_by_name)
def test_the_envelope_points_at_the_committed_schema_of_its_version(
    event: IntegrationEvent,
) -> None:
    envelope = encode(event, source=SOURCE)

    assert envelope.dataschema == f"schemas/{event.name}.v{event.version}.json"
    assert (CONTRACTS_LIB / envelope.dataschema).is_file()


def test_events_of_one_aggregate_share_a_key() -> None:
    events = example_events()
    billing_keys = {
        encode(event, source=SOURCE).subject for event in events if event.topic.endswith("billing")
    }

    assert len(billing_keys) == 1


def test_each_envelope_gets_its_own_id() -> None:
    event = example_events()[0]

    assert encode(event, source=SOURCE).id != encode(event, source=SOURCE).id


def test_an_unknown_event_type_is_refused() -> None:
    envelope = encode(example_events()[0], source=SOURCE)
    from_the_future = envelope.model_copy(update={"type": "dev.strangler-fig.accounts.gone.v9"})

    with pytest.raises(UnknownEventType, match=r"accounts\.gone\.v9"):
        decode(from_the_future)


def test_a_version_no_contract_describes_is_refused() -> None:
    envelope = encode(example_events()[0], source=SOURCE)
    next_version = envelope.model_copy(update={"type": envelope.type.replace(".v1", ".v2")})

    with pytest.raises(UnknownEventType):
        decode(next_version)


@pytest.mark.parametrize(
    ("change", "value"),
    [("email", None), ("registered_at", "yesterday"), ("user_id", 42)],
)
def test_data_that_breaks_the_contract_is_refused(change: str, value: object) -> None:
    envelope = encode(example_events()[0], source=SOURCE)
    broken = envelope.model_copy(update={"data": {**envelope.data, change: value}})

    with pytest.raises(InvalidEventData, match=change):
        decode(broken)


def test_data_missing_a_required_field_is_refused() -> None:
    envelope = encode(example_events()[0], source=SOURCE)
    data = {key: value for key, value in envelope.data.items() if key != "email"}

    with pytest.raises(InvalidEventData, match="email"):
        decode(envelope.model_copy(update={"data": data}))


def test_a_reader_ignores_fields_its_version_does_not_know() -> None:
    event = example_events()[0]
    envelope = encode(event, source=SOURCE)
    from_a_newer_producer = envelope.model_copy(
        update={"data": {**envelope.data, "locale": "fr-FR"}}
    )

    assert decode(from_a_newer_producer) == event


def test_a_producer_cannot_add_fields_the_contract_lacks() -> None:
    with pytest.raises(ValidationError, match="locale"):
        UserRegistered.model_validate({**example_events()[0].model_dump(), "locale": "fr-FR"})
