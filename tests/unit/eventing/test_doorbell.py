"""The outbox's in-process doorbell (``commit_signal.Doorbell``): a commit wakes the relay
waiting on the writer's own loop at once, and one waiting on another loop, rung from
another thread, through that loop."""

from __future__ import annotations

import asyncio
import threading

from strangler_eventing.commit_signal import Doorbell


async def test_a_ring_on_the_waiters_own_loop_wakes_it_at_once() -> None:
    bell, waiter = Doorbell(), asyncio.Event()
    bell.add(waiter)
    bell.ring()
    assert waiter.is_set()  # no round of the loop needed: the relay reads on its next turn


async def test_a_ring_from_another_thread_wakes_a_waiter_on_its_own_loop() -> None:
    bell, waiter = Doorbell(), asyncio.Event()
    bell.add(waiter)
    ringer = threading.Thread(target=bell.ring)
    ringer.start()
    await asyncio.to_thread(ringer.join)
    await asyncio.wait_for(waiter.wait(), 5)


def test_a_ring_forgets_a_waiter_whose_loop_is_closed() -> None:
    bell, waiter = Doorbell(), asyncio.Event()

    async def wait_then_leave() -> None:
        bell.add(waiter)

    asyncio.run(wait_then_leave())
    bell.ring()
    assert bell._waiters == set()
