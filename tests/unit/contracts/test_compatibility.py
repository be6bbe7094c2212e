"""Which changes to a published schema break its consumers, and which do not."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from strangler_contracts.compatibility import BreakingChange, breaking_changes


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema()


def _reasons(old: type[BaseModel], new: type[BaseModel]) -> list[str]:
    return [str(change) for change in breaking_changes(_schema(old), _schema(new))]


class Published(BaseModel):
    """Version 1 as consumers know it."""

    user_id: str
    email: str
    plan: Literal["starter", "pro"]
    registered_at: datetime
    nickname: str | None = None
    tags: list[str] = Field(default_factory=list)


def test_the_same_schema_is_compatible() -> None:
    assert breaking_changes(_schema(Published), _schema(Published)) == []


def test_a_new_optional_field_is_compatible() -> None:
    class WithLocale(Published):
        locale: str | None = None

    assert _reasons(Published, WithLocale) == []


def test_annotations_are_compatible() -> None:
    class Redescribed(BaseModel):
        """A new description."""

        user_id: str = Field(title="The user", description="Who registered", examples=["u-1"])
        email: str
        plan: Literal["pro", "starter"]
        registered_at: datetime
        nickname: str | None = "anonymous"
        tags: list[str] = Field(default_factory=list)

    assert _reasons(Published, Redescribed) == []


def test_a_removed_field_breaks_consumers() -> None:
    class WithoutEmail(BaseModel):
        user_id: str
        plan: Literal["starter", "pro"]
        registered_at: datetime
        nickname: str | None = None
        tags: list[str] = Field(default_factory=list)

    assert _reasons(Published, WithoutEmail) == [
        "$.email: removed: consumers of this version read it"
    ]


def test_a_removed_optional_field_breaks_consumers() -> None:
    class WithoutNickname(BaseModel):
        user_id: str
        email: str
        plan: Literal["starter", "pro"]
        registered_at: datetime
        tags: list[str] = Field(default_factory=list)

    assert _reasons(Published, WithoutNickname) == [
        "$.nickname: removed: consumers of this version read it"
    ]


def test_a_retyped_field_breaks_consumers() -> None:
    class NumericUserId(Published):
        user_id: int  # type: ignore[assignment]

    assert _reasons(Published, NumericUserId) == ["$.user_id: type changed from string to integer"]


def test_a_changed_format_breaks_consumers() -> None:
    class DateAsText(Published):
        registered_at: str  # type: ignore[assignment]

    assert _reasons(Published, DateAsText) == [
        "$.registered_at: type changed from string (date-time) to string"
    ]


def test_a_narrowed_or_widened_enum_breaks_consumers() -> None:
    class OnlyPro(Published):
        plan: Literal["pro"]

    class WithBusiness(Published):
        plan: Literal["starter", "pro", "business"]  # type: ignore[assignment]

    assert _reasons(Published, OnlyPro) == [
        '$.plan: type changed from one of "pro", "starter" to "pro"'
    ]
    assert _reasons(Published, WithBusiness) == [
        '$.plan: type changed from one of "pro", "starter" to one of "business", "pro", "starter"'
    ]


def test_nullable_to_non_null_breaks_consumers() -> None:
    class NicknameAlwaysSet(Published):
        nickname: str = ""

    assert _reasons(Published, NicknameAlwaysSet) == [
        "$.nickname: type changed from string | null to string"
    ]


def test_a_retyped_list_item_is_located() -> None:
    class NumericTags(Published):
        tags: list[int] = Field(default_factory=list)  # type: ignore[assignment]

    assert _reasons(Published, NumericTags) == ["$.tags[]: type changed from string to integer"]


def test_a_new_required_field_breaks_events_already_written() -> None:
    class WithCountry(Published):
        country: str

    assert _reasons(Published, WithCountry) == [
        "$.country: new required property: events already written lack it"
    ]


def test_requiring_or_relaxing_a_field_breaks_consumers() -> None:
    class TagsRequired(Published):
        tags: list[str]

    class EmailOptional(Published):
        email: str = ""

    assert _reasons(Published, TagsRequired) == [
        "$.tags: now required: events already written may lack it"
    ]
    assert _reasons(Published, EmailOptional) == [
        "$.email: no longer required: consumers expect it in every event"
    ]


class Address(BaseModel):
    city: str
    postcode: str


class WithAddress(BaseModel):
    user_id: str
    address: Address


def test_a_change_inside_a_nested_model_is_located() -> None:
    class CityOnly(BaseModel):
        city: str

    class WithCityOnly(BaseModel):
        user_id: str
        address: CityOnly

    assert _reasons(WithAddress, WithCityOnly) == [
        "$.address.postcode: removed: consumers of this version read it"
    ]


def test_renaming_a_nested_model_changes_nothing() -> None:
    class PostalAddress(BaseModel):
        city: str
        postcode: str

    class WithPostalAddress(BaseModel):
        user_id: str
        address: PostalAddress

    assert _reasons(WithAddress, WithPostalAddress) == []


def test_a_new_property_breaks_readers_of_a_closed_object() -> None:
    class Closed(BaseModel):
        model_config = ConfigDict(extra="forbid")
        user_id: str

    class ClosedWithEmail(Closed):
        email: str | None = None

    assert _reasons(Closed, ClosedWithEmail) == [
        "$.email: new property of a closed object: its readers refuse unknown properties"
    ]


def test_a_recursive_schema_is_compared_without_looping() -> None:
    class Node(BaseModel):
        name: str
        children: list[Node] = Field(default_factory=list)

    class RenamedNode(BaseModel):
        label: str
        children: list[RenamedNode] = Field(default_factory=list)

    changes = breaking_changes(_schema(Node), _schema(RenamedNode))

    assert BreakingChange("$.name", "removed: consumers of this version read it") in changes
    assert BreakingChange("$.label", "new required property: events already written lack it") in (
        changes
    )
