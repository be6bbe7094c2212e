import json

from aiokafka import ConsumerRecord
from strangler_contracts import ALL_TOPICS, dead_letter_topic
from strangler_runner.events import EventLine, default_tail_topics

ENVELOPE = {
    "specversion": "1.0",
    "id": "7d0c2f0e-0000-4000-8000-000000000001",
    "source": "/legacy-monolith",
    "type": "dev.strangler-fig.accounts.user-registered.v1",
    "time": "2026-03-01T09:30:00Z",
    "subject": "user-42",
    "datacontenttype": "application/json",
    "data": {"user_id": "user-42"},
}
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
TIMESTAMP_MS = 1_772_357_400_123  # 2026-03-01T09:30:00.123Z


def _record(
    value: bytes, headers: list[tuple[str, bytes]], key: bytes | None = b"user-42"
) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic="strangler.accounts",
        partition=2,
        offset=17,
        timestamp=TIMESTAMP_MS,
        timestamp_type=0,
        key=key,
        value=value,
        checksum=None,
        serialized_key_size=len(key or b""),
        serialized_value_size=len(value),
        headers=headers,
    )


def test_an_event_is_one_line_with_its_coordinates_type_subject_and_traceparent() -> None:
    line = EventLine(
        _record(json.dumps(ENVELOPE).encode(), [("traceparent", TRACEPARENT.encode())])
    )

    assert line.summary() == (
        "2026-03-01T09:30:00.123Z  strangler.accounts/2@17  key=user-42  "
        "dev.strangler-fig.accounts.user-registered.v1 subject=user-42  "
        f"traceparent={TRACEPARENT}"
    )


def test_without_a_traceparent_header_the_line_says_nothing_about_tracing() -> None:
    line = EventLine(_record(json.dumps(ENVELOPE).encode(), [], key=None))

    assert line.summary().endswith(
        "key=-  dev.strangler-fig.accounts.user-registered.v1 subject=user-42"
    )


def test_json_output_is_the_whole_envelope_on_one_line() -> None:
    line = EventLine(_record(json.dumps(ENVELOPE, indent=2).encode(), []))

    printed = line.as_json()

    assert printed is not None
    assert "\n" not in printed
    assert json.loads(printed) == ENVELOPE


def test_a_value_that_is_not_an_envelope_is_shown_as_such_and_has_no_json() -> None:
    line = EventLine(_record(b"\xff\x00 not json", []))

    assert line.summary().endswith("key=user-42  (not a CloudEvents JSON envelope: 11 bytes)")
    assert line.as_json() is None


def test_tail_follows_every_contract_topic_but_the_dead_letters_by_default() -> None:
    followed = default_tail_topics()

    assert "strangler.accounts" in followed
    assert {*followed, *map(dead_letter_topic, followed)} == {spec.name for spec in ALL_TOPICS}
