"""The CloudEvents 1.0 envelope every integration event travels in (JSON structured mode)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CloudEvent", "new_event_id"]


def new_event_id() -> str:
    return str(uuid.uuid4())


class CloudEvent(BaseModel):
    """A CloudEvents 1.0 event. ``correlationid`` and ``causationid`` are extension attributes.

    ``correlationid`` ties together every event caused, directly or not, by one request;
    ``causationid`` is the id of the event (or request) that caused this one.
    """

    # Every attribute is written (``model_dump_json``), so the published schema requires all.
    # Parsing caches JSON keys only: pydantic's default also caches values, and every id of
    # every event a consumer reads would stay in memory until its cache of ~16k strings is
    # full (bench/soak.py: +1.2 MiB in each consuming process, climbing for minutes).
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_serialization_defaults_required=True,
        cache_strings="keys",
    )

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(default_factory=new_event_id, min_length=1)
    source: str = Field(
        min_length=1, description="URI-reference of the producer, e.g. /legacy-monolith"
    )
    type: str = Field(
        min_length=1, description="e.g. dev.strangler-fig.accounts.user-registered.v1"
    )
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    subject: str = Field(min_length=1, description="The aggregate id; also the Kafka key")
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str | None = None
    correlationid: str | None = None
    causationid: str | None = None
    data: dict[str, Any]
