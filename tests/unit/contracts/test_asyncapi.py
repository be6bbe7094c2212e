"""The AsyncAPI document describes every topic, every event, and who sends each one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from strangler_contracts import (
    ALL_EVENTS,
    ALL_TOPICS,
    AccountClosed,
    AccountClosureRefundDeclined,
    AccountClosureRequested,
    BillingClosedForAccount,
    FarewellSentAndDataErased,
    IntegrationEvent,
    SubscriptionActivated,
    UserRegistered,
)
from strangler_contracts.asyncapi import asyncapi_document, message_id
from strangler_contracts.catalogue import CATALOGUE, NotInCatalogue, participants

from tests.support.contract_events import CONTRACTS_LIB

BILLING_ONLY = (SubscriptionActivated,)
"""Events of what the monolith never did (the checkout saga)."""
ACCOUNT_CLOSURE = (
    AccountClosureRequested,
    BillingClosedForAccount,
    AccountClosureRefundDeclined,
    FarewellSentAndDataErased,
    AccountClosed,
)
"""A flow the monolith never had: the services close an account among themselves."""


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((CONTRACTS_LIB / "asyncapi.yaml").read_text())
    return loaded


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _follow(document: dict[str, Any], pointer: str) -> Any:
    node: Any = document
    for token in pointer.removeprefix("#/").split("/"):
        node = node[token]
    return node


def test_the_committed_document_is_the_generated_one(document: dict[str, Any]) -> None:
    assert document == asyncapi_document()


def test_it_is_an_asyncapi_3_document_with_both_brokers(document: dict[str, Any]) -> None:
    assert document["asyncapi"] == "3.0.0"
    assert document["servers"]["embedded"] == {
        "host": "127.0.0.1:9092",
        "protocol": "kafka",
        "description": document["servers"]["embedded"]["description"],
    }
    assert document["servers"]["kafka"]["protocol"] == "kafka"


def test_every_topic_is_a_channel_with_its_partitions(document: dict[str, Any]) -> None:
    channels = document["channels"]

    assert set(channels) == {topic.name for topic in ALL_TOPICS}
    for topic in ALL_TOPICS:
        assert channels[topic.name]["address"] == topic.name
        assert channels[topic.name]["bindings"]["kafka"]["partitions"] == topic.partitions


@pytest.mark.parametrize("event", ALL_EVENTS, ids=lambda event: event.name)
def test_every_event_is_a_message_on_its_topic_and_dead_letter_topic(
    document: dict[str, Any], event: type[IntegrationEvent]
) -> None:
    message = document["components"]["messages"][message_id(event)]

    assert message["name"] == event.cloud_event_type()
    assert message_id(event) in document["channels"][event.topic]["messages"]
    assert message_id(event) in document["channels"][f"{event.topic}.dlq"]["messages"]
    envelope, specifics = message["payload"]["allOf"]
    assert envelope == {"$ref": "schemas/cloudevent.json"}
    assert specifics["properties"]["data"] == {"$ref": event.data_schema()}
    assert specifics["properties"]["type"] == {"const": event.cloud_event_type()}
    assert event.aggregate_field in message["bindings"]["kafka"]["key"]["description"]


@pytest.mark.parametrize("event", ALL_EVENTS, ids=lambda event: event.name)
def test_every_producer_sends_its_events(
    document: dict[str, Any], event: type[IntegrationEvent]
) -> None:
    for producer in participants(event).producers:
        operation = document["operations"][f"{producer}.send.{message_id(event)}"]
        assert operation["action"] == "send"
        assert operation["channel"] == {"$ref": f"#/channels/{event.topic}"}


def test_the_monolith_publishes_every_event_and_billing_its_own_while_it_is_extracted() -> None:
    legacy_events = [
        event for event in ALL_EVENTS if event not in (*BILLING_ONLY, *ACCOUNT_CLOSURE)
    ]
    assert set(CATALOGUE) == {event.name for event in ALL_EVENTS}
    assert all(participants(event).producers[0] == "legacy-monolith" for event in legacy_events)
    assert {event.name for event in ALL_EVENTS if "billing" in participants(event).producers} == {
        event.name for event in ALL_EVENTS if event.topic == "strangler.billing"
    }


def test_what_only_the_billing_service_does_only_it_publishes() -> None:
    assert all(participants(event).producers == ("billing",) for event in BILLING_ONLY)


def test_closing_an_account_is_answered_by_each_participant_in_turn() -> None:
    producers = {event.name: participants(event).producers for event in ACCOUNT_CLOSURE}

    assert producers[AccountClosureRequested.name] == ("legacy-monolith",)
    assert producers[AccountClosed.name] == ("legacy-monolith",)
    assert producers[BillingClosedForAccount.name] == ("billing",)
    assert producers[AccountClosureRefundDeclined.name] == ("billing",)
    assert producers[FarewellSentAndDataErased.name] == ("notifications",)
    # notifications says farewell once billing is done; accounts closes once both are
    for answer in (BillingClosedForAccount, AccountClosureRefundDeclined):
        assert {"legacy-monolith", "notifications"} <= set(participants(answer).consumers)
    assert "legacy-monolith" in participants(FarewellSentAndDataErased).consumers


def test_billing_consumes_registrations(document: dict[str, Any]) -> None:
    operation = document["operations"][f"billing.receive.{message_id(UserRegistered)}"]

    assert operation["action"] == "receive"
    assert operation["channel"] == {"$ref": "#/channels/strangler.accounts"}


def test_an_event_nobody_declared_is_refused() -> None:
    class Undeclared(IntegrationEvent):
        name = "accounts.undeclared"
        version = 1
        topic = "strangler.accounts"
        aggregate_field = "user_id"

        user_id: str

    with pytest.raises(NotInCatalogue, match=r"accounts\.undeclared"):
        asyncapi_document([*ALL_EVENTS, Undeclared])


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    for ref in _refs(document):
        if ref.startswith("#/"):
            assert _follow(document, ref) is not None, ref
        else:
            assert (CONTRACTS_LIB / ref).is_file(), ref
