"""The monolith's declarative base; engines, sessions and timestamps come from the shared lib."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase
from strangler_persistence import (
    SessionFactory,
    UTCDateTime,
    create_engine,
    create_session_factory,
    paginate,
    utcnow,
)

__all__ = [
    "Base",
    "SessionFactory",
    "UTCDateTime",
    "create_engine",
    "create_session_factory",
    "paginate",
    "utcnow",
]


class Base(DeclarativeBase):
    pass
