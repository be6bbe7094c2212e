"""Noise cancelling: fields legacy changes between two calls are not held against new."""

from __future__ import annotations

import asyncio
import json
import random
from itertools import count

from strangler_gateway.shadow import Capture, Shadow, ShadowRules

JSON = {"content-type": "application/json"}


def _capture(document: object) -> Capture:
    return Capture(200, JSON, bytearray(json.dumps(document).encode()))


async def _answer(document: object) -> Capture:
    return _capture(document)


async def _settle(shadow: Shadow) -> None:
    for _ in range(50):
        await asyncio.sleep(0)


async def _mirror_once(
    shadow: Shadow, rules: ShadowRules, legacy: object, new: object, legacy_again: object
) -> None:
    mirror = shadow.start("billing", lambda: _answer(new))
    assert mirror is not None
    again = shadow.sample_noise("billing", rules, lambda: _answer(legacy_again))
    request = ("GET", "/api/billing/x")
    shadow.compare_later("billing", rules, request, _capture(legacy), mirror, again)
    await _settle(shadow)


async def test_a_field_legacy_changes_by_itself_is_counted_as_noise_not_as_a_difference() -> None:
    shadow = Shadow(rng=random.Random(1))
    rules = ShadowRules(noise_warmup=1, noise_sample_rate=0.0)
    ticks = count()

    def document(total: int) -> dict[str, object]:
        return {"total": total, "token": f"t{next(ticks)}"}

    await _mirror_once(shadow, rules, document(10), document(10), document(10))
    await _mirror_once(shadow, rules, document(10), document(10), None)
    await _mirror_once(shadow, rules, document(10), document(12), None)

    stats = shadow.stats("billing")
    assert stats.noisy_fields == {"/token"}
    assert (stats.compared, stats.noisy, stats.differing) == (3, 2, 1)
    assert stats.recent[0].fields == ["/total: 10 != 12"]


async def test_without_noise_cancelling_the_same_field_would_be_a_difference() -> None:
    shadow = Shadow()
    rules = ShadowRules(noise_warmup=0, noise_sample_rate=0.0)

    mirror = shadow.start("billing", lambda: _answer({"token": "b"}))
    assert mirror is not None
    assert shadow.sample_noise("billing", rules, lambda: _answer({"token": "c"})) is None
    shadow.compare_later("billing", rules, ("GET", "/x"), _capture({"token": "a"}), mirror)
    await _settle(shadow)

    stats = shadow.stats("billing")
    assert (stats.differing, stats.noisy) == (1, 0)


async def test_the_first_mirrors_are_always_sampled_then_only_at_the_rate() -> None:
    shadow = Shadow(rng=random.Random(7))
    rules = ShadowRules(noise_warmup=3, noise_sample_rate=0.0)

    sampled = []
    for _ in range(10):
        again = shadow.sample_noise("billing", rules, lambda: _answer({}))
        sampled.append(again is not None)
    await _settle(shadow)

    assert sampled == [True] * 3 + [False] * 7


async def test_mirrors_are_dropped_not_queued_when_too_many_are_in_flight() -> None:
    shadow = Shadow(max_in_flight=2)
    never = asyncio.Event()

    async def hang() -> Capture:
        await never.wait()
        return _capture({})

    started = [shadow.start("billing", hang) for _ in range(5)]

    assert sum(1 for mirror in started if mirror is not None) == 2
    assert shadow.stats("billing").dropped == 3
    await shadow.close()
