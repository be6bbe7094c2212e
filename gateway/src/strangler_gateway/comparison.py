"""Comparing two answers to the same request: pure functions, no I/O.

The gateway's shadow mode uses this to judge the new side against legacy, and the parity
suites use the very same rules, so "equivalent" means one thing everywhere.

An answer is compared as a structure: status, the selected headers, and the body — as JSON
when both sides send JSON, byte for byte otherwise. Each difference names the field it is in
(``/items/0/total``), so a reader sees *what* differs rather than "the bodies differ".

Rules say what not to count:

- ``ignore``: field paths whose values are expected to differ (generated ids, timestamps).
  A pattern is a path of segments separated by ``/``; ``*`` matches one segment and ``**``
  any number of them, so ``**/created_at`` ignores that field at any depth and
  ``/items/*/id`` the id of every item.
- ``unordered``: paths of arrays that are sets — compared whatever the order of their items.
- ``headers``: the response headers worth comparing (most differ legitimately: dates,
  servers, request ids).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

__all__ = [
    "Answer",
    "CompareRules",
    "FieldDifference",
    "compare",
    "diff_json",
    "generalize",
    "lines",
    "path_matches",
]

Path = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CompareRules:
    ignore: tuple[str, ...] = ()
    unordered: tuple[str, ...] = ()
    headers: tuple[str, ...] = ("content-type",)

    def ignores(self, path: Path) -> bool:
        return any(path_matches(pattern, path) for pattern in self.ignore)

    def is_unordered(self, path: Path) -> bool:
        return any(path_matches(pattern, path) for pattern in self.unordered)


@dataclass(frozen=True, slots=True)
class Answer:
    """One side's answer, as far as a comparison needs it.

    ``truncated`` answers were too large to keep: only status and headers are compared.
    ``headers`` are keyed by lower-case name.
    """

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    truncated: bool = False

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


@dataclass(frozen=True, slots=True)
class FieldDifference:
    """One field that differs: ``path`` is ``status``, ``header:<name>``, ``body`` or a JSON
    path like ``/items/0/total``."""

    path: str
    legacy: str
    new: str

    @property
    def line(self) -> str:
        return f"{self.path}: {self.legacy} != {self.new}"


def _segments(pattern: str) -> Path:
    return tuple(segment for segment in pattern.split("/") if segment)


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> Path:
    return _segments(pattern)


def path_matches(pattern: str, path: Sequence[str]) -> bool:
    """Whether ``path`` (JSON path segments) matches ``pattern`` (with ``*`` and ``**``)."""
    return _match(_compiled(pattern), tuple(path))


@lru_cache(maxsize=4096)
def _match(pattern: Path, path: Path) -> bool:
    if not pattern:
        return not path
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_match(rest, path[i:]) for i in range(len(path) + 1))
    if not path:
        return False
    return (head == "*" or head == path[0]) and _match(rest, path[1:])


def _render_path(path: Path) -> str:
    return "/" + "/".join(path)


def generalize(path: str) -> str:
    """The path with array positions replaced by ``*``: ``/items/3/id`` → ``/items/*/id``."""
    return "/".join("*" if segment.isdigit() else segment for segment in path.split("/"))


def _canonical(value: Any, rules: CompareRules, path: Path) -> str:
    """A stable text for an item of an unordered array, ignoring what the rules ignore."""
    return json.dumps(_without_ignored(value, rules, path), sort_keys=True, default=str)


def _without_ignored(value: Any, rules: CompareRules, path: Path) -> Any:
    if isinstance(value, dict):
        return {
            key: _without_ignored(item, rules, (*path, str(key)))
            for key, item in value.items()
            if not rules.ignores((*path, str(key)))
        }
    if isinstance(value, list):
        return [_without_ignored(item, rules, (*path, str(i))) for i, item in enumerate(value)]
    return value


def diff_json(
    legacy: Any, new: Any, rules: CompareRules | None = None, path: Path = ()
) -> list[FieldDifference]:
    """Field-level differences between two JSON documents under ``rules``."""
    rules = rules or CompareRules()
    if path and rules.ignores(path):
        return []
    if isinstance(legacy, dict) and isinstance(new, dict):
        differences: list[FieldDifference] = []
        for key in sorted(set(legacy) | set(new), key=str):
            child = (*path, str(key))
            if rules.ignores(child):
                continue
            if key not in new:
                differences.append(FieldDifference(_render_path(child), "present", "absent"))
            elif key not in legacy:
                differences.append(FieldDifference(_render_path(child), "absent", "present"))
            else:
                differences += diff_json(legacy[key], new[key], rules, child)
        return differences
    if isinstance(legacy, list) and isinstance(new, list):
        if len(legacy) != len(new):
            return [
                FieldDifference(_render_path(path), f"{len(legacy)} items", f"{len(new)} items")
            ]
        if rules.is_unordered(path):
            legacy = sorted(legacy, key=lambda item: _canonical(item, rules, (*path, "0")))
            new = sorted(new, key=lambda item: _canonical(item, rules, (*path, "0")))
        return [
            difference
            for i, (a, b) in enumerate(zip(legacy, new, strict=True))
            for difference in diff_json(a, b, rules, (*path, str(i)))
        ]
    if legacy != new or type(legacy) is not type(new):
        return [FieldDifference(_render_path(path), json.dumps(legacy), json.dumps(new))]
    return []


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def compare(
    legacy: Answer, new: Answer, rules: CompareRules | None = None
) -> list[FieldDifference]:
    """What differs between the two answers under ``rules``; empty when they agree."""
    rules = rules or CompareRules()
    differences: list[FieldDifference] = []
    if legacy.status != new.status:
        differences.append(FieldDifference("status", str(legacy.status), str(new.status)))
    for name in rules.headers:
        name = name.lower()
        mine, theirs = legacy.headers.get(name), new.headers.get(name)
        if mine != theirs:
            differences.append(FieldDifference(f"header:{name}", repr(mine), repr(theirs)))
    if legacy.truncated or new.truncated:
        return differences
    if _is_json(legacy.content_type) and _is_json(new.content_type):
        try:
            return differences + diff_json(json.loads(legacy.body), json.loads(new.body), rules)
        except ValueError:
            pass
    if legacy.body != new.body:
        differences.append(
            FieldDifference("body", f"{len(legacy.body)} bytes", f"{len(new.body)} bytes")
        )
    return differences


def lines(differences: Iterable[FieldDifference]) -> list[str]:
    return [difference.line for difference in differences]
