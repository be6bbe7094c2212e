"""What text may come in at the edge of an API, and how it goes out again.

User text travels: a name into a mail's Subject header, a key into an HTTP header sent to
the payment provider, anything into a log line. A line break there splits a header or forges
a log line, so every API refuses it where it enters, with a 422 naming the field, rather
than failing deep inside (as a 500) or passing it on:

- ``SingleLineText`` for names, ids and reasons: no control characters (C0, DEL, C1), no
  line or paragraph separators (U+2028, U+2029), no invisible format characters (bidi
  controls, zero-width joiners), no unassigned or private-use code points.
- ``MultiLineText`` allows line feeds and tabs, and nothing else of the above.
- ``IdempotencyKeyHeader`` for the ``Idempotency-Key`` header: 1 to ``MAX_IDEMPOTENCY_KEY``
  visible ASCII characters (a key is forwarded in the provider's own header, prefixed);
  anything else is a 400 that says what is wrong with the key.

``one_line`` is the outgoing side: whatever reached a header or a log line through another
path is flattened to one printable line first.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Final

from fastapi import Depends, Header
from pydantic import AfterValidator

from http_platform.problem_catalogue import IDEMPOTENCY_KEY_INVALID, IDEMPOTENCY_KEY_TOO_LONG
from http_platform.problem_writer import Problem

__all__ = [
    "IDEMPOTENCY_KEY_PATTERN",
    "MAX_IDEMPOTENCY_KEY",
    "IdempotencyKeyHeader",
    "MultiLineText",
    "SingleLineText",
    "idempotency_key",
    "one_line",
    "refuse_unprintable",
]

MAX_IDEMPOTENCY_KEY: Final = 200
IDEMPOTENCY_KEY_PATTERN: Final = r"^[\x21-\x7e]{1,200}$"
_IDEMPOTENCY_KEY: Final = re.compile(IDEMPOTENCY_KEY_PATTERN)
_UNPRINTABLE_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cn", "Co", "Cs", "Zl", "Zp"})


def refuse_unprintable(value: str, *, allow: str = "") -> str:
    """``value`` if it holds only printable characters (and those in ``allow``)."""
    for char in value:
        if char in allow:
            continue
        if unicodedata.category(char) in _UNPRINTABLE_CATEGORIES:
            raise ValueError(
                f"must be one line of printable text; U+{ord(char):04X} "
                f"({unicodedata.name(char, 'a control character')}) is not allowed"
            )
    return value


def _single_line(value: str) -> str:
    return refuse_unprintable(value)


def _multi_line(value: str) -> str:
    return refuse_unprintable(value.replace("\r\n", "\n"), allow="\n\t")


SingleLineText = Annotated[str, AfterValidator(_single_line)]
MultiLineText = Annotated[str, AfterValidator(_multi_line)]


def one_line(text: str, *, limit: int = 200) -> str:
    """``text`` as one printable line of at most ``limit`` characters, for a header or a log."""
    printable = "".join(
        " " if unicodedata.category(char) in _UNPRINTABLE_CATEGORIES else char for char in text
    )
    flat = " ".join(printable.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def idempotency_key(
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description=(
                "Makes a retry safe: the same key with the same request answers the first "
                f"outcome again. 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters; "
                "anything else is a 400 problem."
            ),
            json_schema_extra={"pattern": IDEMPOTENCY_KEY_PATTERN},
        ),
    ] = None,
) -> str | None:
    """The request's ``Idempotency-Key``, or a 400 problem naming what is wrong with it."""
    if key is None:
        return None
    if len(key) > MAX_IDEMPOTENCY_KEY:
        raise Problem(
            IDEMPOTENCY_KEY_TOO_LONG,
            f"An Idempotency-Key has at most {MAX_IDEMPOTENCY_KEY} characters; "
            f"this one has {len(key)}.",
        )
    if not _IDEMPOTENCY_KEY.match(key):
        raise Problem(
            IDEMPOTENCY_KEY_INVALID,
            "An Idempotency-Key is made of visible ASCII characters (no spaces, no control "
            "characters, no letters outside ASCII).",
        )
    return key


IdempotencyKeyHeader = Annotated[str | None, Depends(idempotency_key)]
