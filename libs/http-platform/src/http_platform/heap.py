"""The garbage collector of a serving process, set for many short requests after start-up.

CPython's cyclic collector runs when the objects allocated and not yet freed pass a count
(700 by default). A request waiting on a database holds its objects meanwhile, so with 16
requests in flight a one-query PostgreSQL read set off a collection every ~6 requests, and
every few hundred a full one, which walks every object the process has: the ~140,000 of
its imported modules and built app among them. That was ~110 µs of CPU per read
(``bench/reads.py``; none on SQLite, whose reads never wait, so nothing is held), and in the
gateway, whose proxied requests wait on their upstream the same way, collecting was ~12 % of
its CPU (perf, cpu-clock samples, against a static upstream; ~1.5 % with the heap frozen).

Every serving process calls it: the services through ``http_platform.server.serve``, the
gateway once its lifespan has started.

:func:`settle_heap`, called once the process has imported and built what it serves:

- collects what start-up left over, then freezes what remains (``gc.freeze``): the
  collector never walks those objects again (they live as long as the process anyway);
- lets 10,000 objects be allocated and not yet freed before a collection, so the objects
  of requests in flight are not collected (nor promoted to be walked again later) every
  few requests. A request frees its objects by reference counting when it ends; the
  collector is only for cycles, and those still go within a few thousand allocations.
"""

from __future__ import annotations

import gc
from typing import Final

__all__ = ["YOUNG_OBJECTS_BEFORE_COLLECTION", "settle_heap"]

YOUNG_OBJECTS_BEFORE_COLLECTION: Final = 10_000


def settle_heap() -> None:
    """Freeze what the process holds now, and collect less often from here on."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_OBJECTS_BEFORE_COLLECTION, middle, old)
