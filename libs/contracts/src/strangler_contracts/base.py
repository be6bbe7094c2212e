"""What every integration event declares: its name, version, topic and aggregate."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict

__all__ = ["SCHEMAS_FOLDER", "TYPE_PREFIX", "IntegrationEvent"]

TYPE_PREFIX = "dev.strangler-fig."
SCHEMAS_FOLDER = "schemas"


class IntegrationEvent(BaseModel):
    """Base of every contract event. Past-tense names; data only, no behaviour.

    ``name`` is stable across versions (``accounts.user-registered``); ``version`` is bumped
    whenever a change would break an existing consumer. ``aggregate_field`` names the field
    whose value is the CloudEvents ``subject`` and the Kafka key, so that every event of one
    aggregate lands on one partition, in order.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: ClassVar[str]
    version: ClassVar[int]
    topic: ClassVar[str]
    aggregate_field: ClassVar[str]

    @classmethod
    def cloud_event_type(cls) -> str:
        return f"{TYPE_PREFIX}{cls.name}.v{cls.version}"

    @classmethod
    def data_schema(cls) -> str:
        """The CloudEvents ``dataschema``: this version's JSON Schema, relative to the lib."""
        return f"{SCHEMAS_FOLDER}/{cls.name}.v{cls.version}.json"

    def aggregate_id(self) -> str:
        return str(getattr(self, self.aggregate_field))
