"""Pre-flight port check: every port must be free before anything is started."""

from collections.abc import Iterable
from dataclasses import dataclass

from local_processes import port_is_free

from strangler_runner.components import Component, PortBinding

__all__ = ["PortProblem", "find_port_problems"]


@dataclass(frozen=True)
class PortProblem:
    port: int
    message: str


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
