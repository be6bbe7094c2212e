"""Cutting e-mail over in the running system, the way an operator does it: customers keep
registering through the gateway while `strangler flags set mail new` and then
`strangler flags set mail legacy` flip who sends the welcome mail — the monolith inline, or
the notifications service from the registration's event.

Each registration is one causing event and must cause exactly one mail at the SMTP sink,
whichever side sent it and however the flips fell: none lost, none doubled. The monolith
decides the side in the registration's transaction and writes it into the event, so a flip
only moves the mails of later registrations. The mails the service sent carry its
deterministic Message-ID (``…@notifications.strangler-fig.dev``); the monolith's carry none
of those, so the sink also shows that both sides sent part of the traffic.

The system is shared by the session: mail goes back to legacy whatever happens.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from tests.support.running_system import RunningSystem

pytestmark = pytest.mark.e2e

MAX_REGISTRATIONS = 120
PER_PHASE = 8
PAUSE_SECONDS = 0.05
WITHIN_SECONDS = 60.0
POLL_SECONDS = 0.3
SERVICE_MESSAGE_ID = re.compile(r"@notifications\.strangler-fig\.dev>?$")
PASSWORD = "correct-horse"


@dataclass
class Traffic:
    """Registrations made so far, in order: (e-mail, whether made after the flip back)."""

    registered: list[str] = field(default_factory=list)
    after_flip_back: list[str] = field(default_factory=list)
    flipped_back: bool = False
    stop: asyncio.Event = field(default_factory=asyncio.Event)


async def _register_steadily(gateway: httpx.AsyncClient, traffic: Traffic) -> None:
    """One registration after another until stopped, at most ``MAX_REGISTRATIONS``."""
    for _ in range(MAX_REGISTRATIONS):
        if traffic.stop.is_set():
            return
        email = f"cutover-{uuid.uuid4().hex[:12]}@example.com"
        flipped_back = traffic.flipped_back
        response = await gateway.post(
            "/api/users", json={"email": email, "password": PASSWORD, "name": "Cutover"}
        )
        assert response.status_code == 201, response.text
        traffic.registered.append(email)
        if flipped_back:
            traffic.after_flip_back.append(email)
        await asyncio.sleep(PAUSE_SECONDS)


async def _wait_for(observe: Callable[[], Awaitable[tuple[bool, str]]], what: str) -> None:
    """Poll ``observe()`` (done?, what it saw) until done; its last sighting in the failure."""
    began = time.monotonic()
    done, seen = await observe()
    while not done:
        if time.monotonic() - began > WITHIN_SECONDS:
            raise AssertionError(f"{what}: not within {WITHIN_SECONDS:g} s; {seen}")
        await asyncio.sleep(POLL_SECONDS)
        done, seen = await observe()


async def _mails_to(mail: httpx.AsyncClient, address: str) -> list[dict[str, object]]:
    response = await mail.get("/messages", params={"to": address, "limit": 100})
    response.raise_for_status()
    items: list[dict[str, object]] = response.json()["items"]
    return items


def _by_service(message: dict[str, object]) -> bool:
    return bool(SERVICE_MESSAGE_ID.search(str(message.get("message_id") or "")))


def _gauge_total(metrics: str, name: str, group: str | None = None) -> float:
    """The sum of a gauge's samples (only ``group``'s when given) in a /metrics answer."""
    total = 0.0
    for line in metrics.splitlines():
        if not line.startswith(name) or line.startswith(f"{name}_"):
            continue
        if group is not None and f'group="{group}"' not in line:
            continue
        total += float(line.rsplit(" ", 1)[1])
    return total


def _flag(system: RunningSystem, mode: str, reason: str) -> None:
    result = system.strangler("flags", "set", "mail", mode, "--reason", reason)
    assert result.returncode == 0, result.stderr


@pytest.fixture
def mail_goes_back_to_legacy(system: RunningSystem) -> Iterator[None]:
    yield
    system.strangler("flags", "set", "mail", "legacy", "--reason", "e2e cleanup")


async def test_flipping_mail_to_new_and_back_under_traffic_loses_and_doubles_no_mail(
    system: RunningSystem, mail_goes_back_to_legacy: None
) -> None:
    traffic = Traffic()
    async with (
        httpx.AsyncClient(base_url=system.gateway_url, timeout=30) as gateway,
        httpx.AsyncClient(base_url=system.mail_url, timeout=10) as mail,
        httpx.AsyncClient(base_url=system.notifications_url, timeout=10) as notifications,
        httpx.AsyncClient(base_url=system.monolith_url, timeout=10) as monolith,
    ):
        registering = asyncio.create_task(_register_steadily(gateway, traffic))

        async def some_registered() -> tuple[bool, str]:
            done = len(traffic.registered) >= PER_PHASE
            return done, f"{len(traffic.registered)} registered"

        async def the_service_sends() -> tuple[bool, str]:
            newest = traffic.registered[-5:]
            sent = [m for address in newest for m in await _mails_to(mail, address)]
            done = any(_by_service(m) for m in sent) and len(traffic.registered) >= 2 * PER_PHASE
            return done, f"{len(traffic.registered)} registered"

        async def the_monolith_sends_again() -> tuple[bool, str]:
            sent = [m for a in traffic.after_flip_back[-5:] for m in await _mails_to(mail, a)]
            done = any(not _by_service(m) for m in sent)
            done = done and len(traffic.after_flip_back) >= PER_PHASE
            return done, f"{len(traffic.after_flip_back)} registered since the flip back"

        try:
            await _wait_for(some_registered, "the first registrations")
            _flag(system, "new", "e2e: notifications sends from events")
            await _wait_for(the_service_sends, "a welcome mail sent by the service")
            _flag(system, "legacy", "e2e: back to the monolith")
            traffic.flipped_back = True
            await _wait_for(the_monolith_sends_again, "a welcome mail sent by the monolith again")
        finally:
            traffic.stop.set()
            await asyncio.wait_for(registering, WITHIN_SECONDS)

        async def every_registration_mailed() -> tuple[bool, str]:
            missing = [a for a in traffic.registered if not await _mails_to(mail, a)]
            return not missing, f"{len(missing)} of {len(traffic.registered)} without mail"

        async def nothing_left_to_send() -> tuple[bool, str]:
            service = (await notifications.get("/metrics")).text
            legacy = (await monolith.get("/metrics")).text
            left = {
                "pending": _gauge_total(service, "strangler_notifications_pending_mails"),
                "lag": _gauge_total(service, "strangler_consumer_lag", group="notifications"),
                "parked": _gauge_total(service, "strangler_consumer_parked", "notifications"),
                "outbox": _gauge_total(legacy, "strangler_outbox_backlog"),
            }
            return not any(left.values()), f"still to do: {left}"

        await _wait_for(every_registration_mailed, "a mail for every registration")
        await _wait_for(nothing_left_to_send, "the monolith and the service idle")

        mails = {address: await _mails_to(mail, address) for address in traffic.registered}
        duplicates = (await mail.get("/messages/duplicates")).json()

    doubled = {address: len(sent) for address, sent in mails.items() if len(sent) != 1}
    by_service = sum(_by_service(sent[0]) for sent in mails.values())
    assert doubled == {}, f"registrations mailed other than once: {doubled}"
    assert duplicates == []
    assert 0 < by_service < len(traffic.registered), (
        f"{by_service} of {len(traffic.registered)} welcome mails sent by the service"
    )
