"""Whether a new JSON Schema of an event version still serves everyone who relies on the old one.

One version of an event is one stream of facts: events written by old and new producers sit
side by side in the log and in every outbox, and a consumer deployed tomorrow replays events
written yesterday (backfill, recovery). So a change to a published version must hold both
ways: an old consumer must accept what a new producer writes, and a new consumer must accept
what an old producer wrote. For every property, at every depth:

- adding an optional property is compatible: readers ignore what they do not know;
- adding a required property is breaking: events already written lack it;
- removing a property is breaking: consumers of the version read it;
- making a property required, or no longer required, is breaking (one of the two above);
- any change to what a value may be is breaking: its type, ``format``, ``enum``, ``const``,
  bounds, pattern, nullability, items. Narrowing refuses old events; widening hands old
  consumers values they refuse. Nullable to non-null is no exception: old events hold nulls;
- adding a property to a closed object (``additionalProperties: false``) is breaking: its
  readers refuse properties they do not know;
- annotations (``title``, ``description``, ``default``, ``examples``, ``$comment``, ``x-*``)
  change nothing a reader checks, so they are compatible.

``$ref`` to ``#/...`` inside the same document is followed, so renaming a definition is not a
change.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

__all__ = ["BreakingChange", "JsonSchema", "breaking_changes"]

JsonSchema = Mapping[str, Any]

_ANNOTATIONS = frozenset(
    {
        "$comment",
        "$defs",
        "$id",
        "$schema",
        "default",
        "definitions",
        "deprecated",
        "description",
        "examples",
        "readOnly",
        "title",
        "writeOnly",
    }
)
_SUBSCHEMA = frozenset(
    {
        "additionalItems",
        "additionalProperties",
        "contains",
        "else",
        "if",
        "items",
        "not",
        "propertyNames",
        "then",
        "unevaluatedItems",
        "unevaluatedProperties",
    }
)
_SUBSCHEMA_MAPS = frozenset({"dependentSchemas", "patternProperties", "properties"})
_UNORDERED_SUBSCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf"})
_UNORDERED_VALUE_LISTS = frozenset({"enum", "required", "type"})
_NULL = {"type": "null"}


@dataclass(frozen=True)
class BreakingChange:
    """One way in which data valid under one of the schemas is refused under the other.

    ``path`` locates the value in an event, JSONPath-style: ``$.email``, ``$.ids[]``.
    """

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def breaking_changes(old: JsonSchema, new: JsonSchema) -> list[BreakingChange]:
    """Every change from ``old`` to ``new`` that breaks a consumer or a replay; empty if none."""
    return _Comparison(old, new).compare("$", old, new, frozenset())


class _Document:
    """One schema document: follows its local ``$ref`` and reduces a node to its assertions."""

    def __init__(self, root: JsonSchema) -> None:
        self._root = root

    def resolve(self, node: JsonSchema) -> tuple[JsonSchema, str | None]:
        """``node`` with a local ``$ref`` replaced by its target, and the ref it followed."""
        ref = node.get("$ref")
        if not _is_local_ref(ref):
            return node, None
        siblings = {key: value for key, value in node.items() if key != "$ref"}
        return {**self._target(ref), **siblings}, ref

    def assertions(self, node: Any, expanding: frozenset[str] = frozenset()) -> Any:
        """What ``node`` lets through, as plain data: refs followed, annotations and order gone."""
        if not isinstance(node, Mapping):
            return node
        ref = node.get("$ref")
        if _is_local_ref(ref):
            if ref in expanding:
                return {"$ref": ref}
            resolved, _ = self.resolve(node)
            return self.assertions(resolved, expanding | {ref})
        reduced: dict[str, Any] = {}
        for key, value in node.items():
            if key in _ANNOTATIONS or key.startswith("x-"):
                continue
            if key in _SUBSCHEMA:
                reduced[key] = self.assertions(value, expanding)
            elif key in _SUBSCHEMA_MAPS:
                reduced[key] = {name: self.assertions(v, expanding) for name, v in value.items()}
            elif key in _UNORDERED_SUBSCHEMA_LISTS:
                branches = [self.assertions(branch, expanding) for branch in value]
                reduced[key] = sorted(branches, key=lambda b: (b == _NULL, _canonical_json(b)))
            elif key in _UNORDERED_VALUE_LISTS and isinstance(value, list):
                reduced[key] = sorted(value, key=_canonical_json)
            elif key == "prefixItems":
                reduced[key] = [self.assertions(item, expanding) for item in value]
            else:
                reduced[key] = value
        return reduced

    def _target(self, ref: str) -> JsonSchema:
        node: Any = self._root
        for token in ref.removeprefix("#/").split("/"):
            node = node[token.replace("~1", "/").replace("~0", "~")]
        if not isinstance(node, Mapping):
            raise ValueError(f"$ref {ref} does not point at a schema")
        return node


class _Comparison:
    def __init__(self, old_root: JsonSchema, new_root: JsonSchema) -> None:
        self._old = _Document(old_root)
        self._new = _Document(new_root)

    def compare(
        self,
        path: str,
        old: JsonSchema,
        new: JsonSchema,
        expanding: frozenset[tuple[str | None, str | None]],
    ) -> list[BreakingChange]:
        old, old_ref = self._old.resolve(old)
        new, new_ref = self._new.resolve(new)
        followed = (old_ref, new_ref)
        if followed != (None, None):
            if followed in expanding:
                return self._compare_values(path, old, new)
            expanding = expanding | {followed}
        if "properties" in old and "properties" in new:
            return self._compare_objects(path, old, new, expanding)
        if isinstance(old.get("items"), Mapping) and isinstance(new.get("items"), Mapping):
            return [
                *self._compare_values(path, _without(old, "items"), _without(new, "items")),
                *self.compare(f"{path}[]", old["items"], new["items"], expanding),
            ]
        return self._compare_values(path, old, new)

    def _compare_objects(
        self,
        path: str,
        old: JsonSchema,
        new: JsonSchema,
        expanding: frozenset[tuple[str | None, str | None]],
    ) -> list[BreakingChange]:
        changes = self._compare_values(
            path, _without(old, "properties", "required"), _without(new, "properties", "required")
        )
        old_properties: Mapping[str, JsonSchema] = old["properties"]
        new_properties: Mapping[str, JsonSchema] = new["properties"]
        old_required = set(old.get("required", ()))
        new_required = set(new.get("required", ()))
        for name, old_property in old_properties.items():
            at = f"{path}.{name}"
            if name not in new_properties:
                changes.append(BreakingChange(at, "removed: consumers of this version read it"))
                continue
            changes.extend(self.compare(at, old_property, new_properties[name], expanding))
            if name in old_required and name not in new_required:
                changes.append(
                    BreakingChange(at, "no longer required: consumers expect it in every event")
                )
            elif name in new_required and name not in old_required:
                changes.append(
                    BreakingChange(at, "now required: events already written may lack it")
                )
        for name in new_properties:
            if name in old_properties:
                continue
            at = f"{path}.{name}"
            if name in new_required:
                changes.append(
                    BreakingChange(at, "new required property: events already written lack it")
                )
            elif old.get("additionalProperties") is False:
                changes.append(
                    BreakingChange(
                        at, "new property of a closed object: its readers refuse unknown properties"
                    )
                )
        return changes

    def _compare_values(self, path: str, old: JsonSchema, new: JsonSchema) -> list[BreakingChange]:
        old_assertions = self._old.assertions(old)
        new_assertions = self._new.assertions(new)
        if old_assertions == new_assertions:
            return []
        before, after = _describe(old_assertions), _describe(new_assertions)
        if before == after:
            before, after = _canonical_json(old_assertions), _canonical_json(new_assertions)
        return [BreakingChange(path, f"type changed from {before} to {after}")]


def _is_local_ref(ref: object) -> TypeGuard[str]:
    return isinstance(ref, str) and ref.startswith("#/")


def _without(node: JsonSchema, *keys: str) -> JsonSchema:
    return {key: value for key, value in node.items() if key not in keys}


def _canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _describe(assertions: Any) -> str:
    """A short human reading of reduced assertions: ``string (date-time) | null``."""
    if not isinstance(assertions, Mapping):
        return "anything" if assertions is True else "nothing"
    for union in ("anyOf", "oneOf"):
        if union in assertions:
            return " | ".join(_describe(branch) for branch in assertions[union])
    if "const" in assertions:
        return json.dumps(assertions["const"])
    if "enum" in assertions:
        return "one of " + ", ".join(json.dumps(value) for value in assertions["enum"])
    types = assertions.get("type")
    if types is None:
        return "anything" if not assertions else _canonical_json(assertions)
    described = []
    for kind in types if isinstance(types, list) else [types]:
        if kind == "array" and isinstance(assertions.get("items"), Mapping):
            described.append(f"array of {_describe(assertions['items'])}")
        elif kind == "string" and "format" in assertions:
            described.append(f"string ({assertions['format']})")
        else:
            described.append(str(kind))
    return " | ".join(described)
