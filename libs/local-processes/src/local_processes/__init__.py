"""Child processes on one machine, as the runner and the embedded broker start them."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable

__all__ = ["die_with_parent", "port_is_free"]

_PR_SET_PDEATHSIG = 1


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


def die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that sends the child SIGTERM when this process dies, even by SIGKILL.

    Linux only (``PR_SET_PDEATHSIG``); elsewhere the parent's own shutdown stops its
    children. The signal fires when the *thread* that started the child ends, so it is armed
    only from the main thread: a child started from a worker thread must not die with it.
    """
    if not sys.platform.startswith("linux"):
        return None
    if threading.current_thread() is not threading.main_thread():
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    parent_pid = os.getpid()

    def arm_parent_death_signal() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM))
        if os.getppid() != parent_pid:
            os.kill(os.getpid(), signal.SIGTERM)

    return arm_parent_death_signal
