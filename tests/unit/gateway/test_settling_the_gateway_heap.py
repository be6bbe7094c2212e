"""The gateway sets its garbage collector as every service does (``http_platform.heap``), once
its lifespan has started: what start-up built is frozen, and proxied requests in flight,
which hold their objects while the upstream answers, are not collected every few requests."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from typing import Any

import pytest
from http_platform.heap import YOUNG_OBJECTS_BEFORE_COLLECTION
from pydantic import SecretStr
from strangler_gateway.app import create_app
from strangler_gateway.settings import GatewaySettings
from strangler_gateway.store import InMemoryFlagStore


@pytest.fixture
def collector() -> Iterator[None]:
    threshold = gc.get_threshold()
    gc.unfreeze()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


async def test_a_started_gateway_has_frozen_its_start_up_heap(collector: None) -> None:
    gateway = create_app(
        GatewaySettings(admin_token=SecretStr("test-token")), flag_source=InMemoryFlagStore()
    )
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    sent: list[dict[str, Any]] = []
    await inbox.put({"type": "lifespan.startup"})

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "lifespan.startup.complete":
            seen["frozen"] = gc.get_freeze_count()
            seen["young"] = gc.get_threshold()[0]
            await inbox.put({"type": "lifespan.shutdown"})

    seen: dict[str, int] = {}
    await gateway.public({"type": "lifespan"}, inbox.get, send)

    assert [message["type"] for message in sent] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]
    assert seen["frozen"] > 0, "start-up's objects are frozen: no collection walks them"
    assert seen["young"] == YOUNG_OBJECTS_BEFORE_COLLECTION
