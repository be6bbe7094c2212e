"""Housekeeping: expired refresh tokens and ended login counts are dropped, so guessed
addresses cannot grow auth's tables for ever; what still matters stays."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from auth_service.adapters.orm import login_throttles, refresh_tokens
from auth_service.bootstrap import bootstrap
from sqlalchemy import func, select
from strangler_persistence import create_engine, create_session_factory

from tests.integration.auth.conftest import MovableClock, SettingsFactory
from tests.support.auth_api import FAST_PASSWORDS, log_in, sign_up, unique_email

pytestmark = pytest.mark.integration


async def _counts(database_url: str) -> tuple[int, int]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            tokens = await connection.scalar(select(func.count()).select_from(refresh_tokens))
            throttles = await connection.scalar(select(func.count()).select_from(login_throttles))
    finally:
        await engine.dispose()
    return tokens or 0, throttles or 0


async def test_expired_refresh_tokens_and_ended_counts_are_dropped(
    auth: httpx.AsyncClient,
    auth_database: str,
    auth_settings: SettingsFactory,
    clock: MovableClock,
) -> None:
    account = await sign_up(auth, "housekeeping")
    await log_in(auth, unique_email("guessed"), "wrong-password")
    engine = create_engine(auth_database)
    accounts = bootstrap(
        auth_settings(), create_session_factory(engine), passwords=FAST_PASSWORDS, clock=clock
    ).accounts
    try:
        kept = await accounts.forget_the_past()
        before = await _counts(auth_database)
        clock.move(by=timedelta(days=31))
        dropped = await accounts.forget_the_past()
        after = await _counts(auth_database)
    finally:
        await engine.dispose()
    refreshed = await auth.post("/api/auth/refresh", json={"refresh_token": account.refresh_token})

    assert kept == 0
    assert before == (1, 2)
    assert dropped == 3
    assert after == (0, 0)
    assert refreshed.status_code == 401
