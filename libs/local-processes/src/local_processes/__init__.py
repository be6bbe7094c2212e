"""Child processes on one machine, started and stopped one way by the runner, the embedded
broker, the tests and the benches.

```python
child = ChildProcess.start(["legacy-monolith", "serve"], env=env, stdout=log_file)
...
child.stop()  # SIGTERM to its process group, SIGKILL after a bound, then reaped
```

`AsyncChildProcess` is the same for asyncio code. `port_is_free` says whether a server could
listen on a port now; `process_tree` and `resident_bytes` measure what a child holds.
`stopped_within` is the pause of a loop inside a process that ends as soon as it is asked to stop.
"""

from __future__ import annotations

import socket

from local_processes.children import (
    STOP_TIMEOUT_SECONDS,
    AsyncChildProcess,
    ChildProcess,
    describe_exit,
    die_with_parent,
)
from local_processes.groups import (
    is_alive,
    is_same_process,
    process_tree,
    resident_bytes,
    signal_group,
    start_ticks,
)
from local_processes.stopping import stopped_within

__all__ = [
    "STOP_TIMEOUT_SECONDS",
    "AsyncChildProcess",
    "ChildProcess",
    "describe_exit",
    "die_with_parent",
    "is_alive",
    "is_same_process",
    "port_is_free",
    "process_tree",
    "resident_bytes",
    "signal_group",
    "start_ticks",
    "stopped_within",
]


def port_is_free(host: str, port: int) -> bool:
    """Whether a server could listen on ``host:port`` now.

    ``SO_REUSEADDR`` mirrors what the servers themselves set, so a port left in TIME_WAIT by
    the previous run counts as free while a port someone listens on does not.
    """
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError:
            return False
    return True
