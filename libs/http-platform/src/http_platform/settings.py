"""Reading a deployable's settings at the command line: every bad variable named, no traceback."""

from __future__ import annotations

import sys
from typing import TypeVar

from pydantic import BaseModel, ValidationError

__all__ = ["settings_or_exit"]

S = TypeVar("S", bound=BaseModel)


def settings_or_exit(settings_class: type[S]) -> S:
    """The settings from the environment, or one stderr line per missing or invalid variable
    (named with the class's ``env_prefix``) and exit status 2."""
    try:
        return settings_class()
    except ValidationError as invalid:
        prefix = str(settings_class.model_config.get("env_prefix", ""))
        for error in invalid.errors():
            name = prefix + "_".join(str(part) for part in error["loc"]).upper()
            print(f"error: {name}: {error['msg']}", file=sys.stderr)
        raise SystemExit(2) from None
