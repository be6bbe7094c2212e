"""A serving process sets its garbage collector once it has built what it serves: what
start-up made is frozen (never walked again by a collection), and the objects of requests in
flight are not collected every few requests."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from http_platform.heap import YOUNG_OBJECTS_BEFORE_COLLECTION
from http_platform.server import serve


@pytest.fixture
def collector() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_serving_freezes_what_start_up_built_and_collects_less_often(
    collector: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = FastAPI()
    seen: dict[str, Any] = {}

    def run(served: Any, **_: Any) -> None:
        seen["frozen"] = gc.get_freeze_count()
        seen["young"] = gc.get_threshold()[0]
        seen["app_tracked"] = any(tracked is app for tracked in gc.get_objects())

    monkeypatch.setattr(uvicorn, "run", run)

    serve(app, "127.0.0.1", 0)

    assert seen["frozen"] > 0
    assert not seen["app_tracked"], "the app is frozen: no collection walks it"
    assert seen["young"] == YOUNG_OBJECTS_BEFORE_COLLECTION > 700
