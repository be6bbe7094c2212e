"""One way to write a record's fields, so that equal records hash equally on every database.

A timestamp is written in UTC with microseconds, whatever the backend stored (SQLite keeps
it naive, PostgreSQL with its zone); everything else is a JSON scalar as is. The checksum of
a record is the SHA-256 of its fields as canonical JSON: sorted keys, no spaces.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = ["canonical_fields", "canonical_value", "record_checksum"]


def canonical_value(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    return value


def canonical_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {name: canonical_value(value) for name, value in fields.items()}


def record_checksum(fields: Mapping[str, Any]) -> str:
    """The SHA-256 (hex) of the record's canonical fields; ``version`` and ``origin`` are not
    fields: two sides holding the same content agree whatever path it took."""
    text = json.dumps(canonical_fields(fields), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
