"""Logging in, through the composition root on fakes: the same work and answer for an unknown
address as for a wrong password, the throttle before any password, older hashes upgraded."""

from __future__ import annotations

import pytest
from auth_service.bootstrap import bootstrap
from auth_service.domain import errors
from auth_service.domain.users import User
from auth_service.service_layer.accounts import Accounts
from auth_service.settings import AuthSettings
from strangler_persistence import utcnow

from tests.unit.auth.fakes import FakeDatabase, RecordingPasswords

ADDRESS = "192.0.2.1"


@pytest.fixture
def database() -> FakeDatabase:
    return FakeDatabase()


@pytest.fixture
def passwords() -> RecordingPasswords:
    return RecordingPasswords()


@pytest.fixture
def accounts(database: FakeDatabase, passwords: RecordingPasswords) -> Accounts:
    settings = AuthSettings(
        operator_token="unit-operator-token-0123456789",  # type: ignore[arg-type]
        login_account_failures=2,
        login_address_failures=3,
    )
    return bootstrap(settings, unit_of_work=database.unit_of_work, passwords=passwords).accounts


async def test_an_unknown_address_costs_one_verification_like_a_wrong_password(
    accounts: Accounts, passwords: RecordingPasswords
) -> None:
    await accounts.register(email="ada@example.com", password="right-password", name="Ada")

    with pytest.raises(errors.InvalidCredentials):
        await accounts.login(email="nobody@example.com", password="x", client_address=ADDRESS)
    unknown = list(passwords.work)
    passwords.work.clear()
    with pytest.raises(errors.InvalidCredentials):
        await accounts.login(email="ada@example.com", password="x", client_address=ADDRESS)

    assert unknown == passwords.work == ["verify"]


async def test_a_locked_account_is_refused_before_any_password_is_checked(
    accounts: Accounts, passwords: RecordingPasswords
) -> None:
    await accounts.register(email="bob@example.com", password="right-password", name="Bob")
    for _ in range(2):
        with pytest.raises(errors.InvalidCredentials):
            await accounts.login(email="BOB@example.com", password="x", client_address=ADDRESS)
    passwords.work.clear()

    with pytest.raises(errors.LoginThrottled) as throttled:
        await accounts.login(
            email="bob@example.com", password="right-password", client_address="192.0.2.2"
        )

    assert passwords.work == []
    assert throttled.value.retry_after_seconds > 0


async def test_an_older_hash_is_upgraded_at_a_successful_login(
    accounts: Accounts, database: FakeDatabase
) -> None:
    user = User(id="u-1", email="old@example.com", email_key="old@example.com", name="Old",
                password_hash="older:secret-password", now=utcnow())  # fmt: skip
    database.users[user.id] = user
    changed_at = user.password_changed_at

    session = await accounts.login(
        email="old@example.com", password="secret-password", client_address=ADDRESS
    )

    assert session.access_token
    assert user.password_hash == "hashed:secret-password"
    assert user.password_changed_at == changed_at
