from __future__ import annotations

import pytest
from notifications_service.service_layer.choreography import MailChoreography
from notifications_service.service_layer.sender import MailSender, SendPolicy

from tests.unit.notifications.fakes import FakeMailer, FakeStore, FixedClock, Switch

DOMAIN = "notifications.test"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def switch() -> Switch:
    return Switch()


@pytest.fixture
def mailer() -> FakeMailer:
    return FakeMailer()


@pytest.fixture
def choreography(switch: Switch, clock: FixedClock) -> MailChoreography:
    return MailChoreography(switch, clock, DOMAIN)


@pytest.fixture
def sender(store: FakeStore, mailer: FakeMailer, clock: FixedClock) -> MailSender:
    policy = SendPolicy(batch_size=10, lease_seconds=30, retry_first_seconds=1, retry_max_seconds=8)
    return MailSender(store.stores(), mailer, clock, policy)
