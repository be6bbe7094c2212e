"""How long a consumer's fetch waits for data is a setting of each service (its
``*_KAFKA_FETCH_MAX_WAIT_MS``), and it reaches the Kafka consumer every component creates."""

from __future__ import annotations

import pytest
from billing_service.bootstrap import broker_config
from billing_service.settings import BillingSettings
from strangler_eventing import BrokerConfig, create_consumer


async def test_a_consumer_waits_for_data_as_long_as_its_broker_config_says() -> None:
    default = create_consumer(BrokerConfig(), "group", "topic")
    chosen = create_consumer(BrokerConfig(fetch_max_wait_ms=10), "group", "topic")

    assert default._fetch_max_wait_ms == 50
    assert chosen._fetch_max_wait_ms == 10


async def test_a_service_s_environment_sets_its_consumers_fetch_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BILLING_JWT_SECRET", "x" * 32)
    monkeypatch.setenv("BILLING_OPERATOR_TOKEN", "y" * 32)
    monkeypatch.setenv("BILLING_KAFKA_FETCH_MAX_WAIT_MS", "10")

    config = broker_config(BillingSettings())

    assert create_consumer(config, "billing", "topic")._fetch_max_wait_ms == 10
