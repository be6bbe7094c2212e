"""Pre-flight port check: every port must be free before anything is started."""

import socket
from collections.abc import Iterable
from dataclasses import dataclass

from strangler_runner.components import Component, PortBinding

__all__ = ["PortProblem", "find_port_problems", "port_is_free"]


@dataclass(frozen=True)
class PortProblem:
    port: int
    message: str


def port_is_free(host: str, port: int) -> bool:
    """Whether a server could listen on `host:port` now.

    `SO_REUSEADDR` mirrors what the servers themselves set, so a port left in TIME_WAIT by
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


def find_port_problems(host: str, components: Iterable[Component]) -> list[PortProblem]:
    problems: list[PortProblem] = []
    claimed: dict[int, tuple[str, PortBinding]] = {}
    for component in components:
        for binding in component.ports:
            if binding.number in claimed:
                first_owner, first_binding = claimed[binding.number]
                problems.append(
                    PortProblem(
                        binding.number,
                        f"port {binding.number} is configured for both {first_owner} and "
                        f"{component.name} — set {first_binding.setting} or {binding.setting}",
                    )
                )
                continue
            claimed[binding.number] = (component.name, binding)
            if not port_is_free(host, binding.number):
                problems.append(
                    PortProblem(
                        binding.number,
                        f"port {binding.number} ({component.name}) is already in use — "
                        f"stop whatever holds it or set {binding.setting}",
                    )
                )
    return problems
