"""The committed schema files are the frozen record of every published event version."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import ClassVar

import pytest
from strangler_contracts import ALL_EVENTS, IntegrationEvent, UserRegistered
from strangler_contracts.mail import MailSentBy
from strangler_contracts.schemas import (
    OUT_OF_DATE,
    UNRECORDED_VERSION,
    IncompatibleChange,
    check,
    event_schema,
    generate,
    main,
)

from tests.support.contract_events import CONTRACTS_LIB

USER_REGISTERED_V1 = "schemas/accounts.user-registered.v1.json"
USER_REGISTERED_V2 = "schemas/accounts.user-registered.v2.json"


class UserRegisteredWithoutEmail(IntegrationEvent):
    """A developer's edit of UserRegistered v1 that drops a field consumers read."""

    name: ClassVar[str] = UserRegistered.name
    version: ClassVar[int] = 1
    topic: ClassVar[str] = UserRegistered.topic
    aggregate_field: ClassVar[str] = "user_id"

    user_id: str
    display_name: str
    registered_at: datetime


class UserRegisteredV2(UserRegisteredWithoutEmail):
    """The same edit, published as a new version."""

    version: ClassVar[int] = 2


class UserRegisteredWithLocale(IntegrationEvent):
    """A compatible edit of UserRegistered v1: one more optional field."""

    name: ClassVar[str] = UserRegistered.name
    version: ClassVar[int] = 1
    topic: ClassVar[str] = UserRegistered.topic
    aggregate_field: ClassVar[str] = "user_id"

    user_id: str
    email: str
    display_name: str
    registered_at: datetime
    origin: str | None = None
    mail_sent_by: MailSentBy = None
    locale: str | None = None


@pytest.fixture
def lib_copy(tmp_path: Path) -> Path:
    """The committed record, copied so that a test may regenerate it."""
    shutil.copytree(CONTRACTS_LIB / "schemas", tmp_path / "schemas")
    shutil.copy(CONTRACTS_LIB / "asyncapi.yaml", tmp_path / "asyncapi.yaml")
    return tmp_path


def _problems_about(path: str, problems: list[str]) -> list[str]:
    return [problem for problem in problems if problem.startswith(f"{path}:")]


def test_the_committed_schemas_match_the_models() -> None:
    assert check(CONTRACTS_LIB) == []


def test_every_event_version_has_its_schema_file() -> None:
    for event in ALL_EVENTS:
        committed = json.loads((CONTRACTS_LIB / event.data_schema()).read_text())
        assert committed == event_schema(event)


def test_the_record_is_deterministic(tmp_path: Path) -> None:
    assert generate(tmp_path) != []
    first = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}

    assert generate(tmp_path) == []
    assert {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()} == first
    assert all(content.endswith(b"\n") for content in first.values())


def test_a_breaking_change_is_reported_with_the_bump_version_message() -> None:
    problems = _problems_about(
        USER_REGISTERED_V1, check(CONTRACTS_LIB, [UserRegisteredWithoutEmail])
    )

    assert len(problems) == 1
    assert "bump `version` to 2" in problems[0]
    assert f"keep {USER_REGISTERED_V1}" in problems[0]
    assert "$.email: removed" in problems[0]


def test_generate_refuses_a_breaking_change_and_writes_nothing(lib_copy: Path) -> None:
    before = {path: path.read_bytes() for path in lib_copy.rglob("*") if path.is_file()}

    with pytest.raises(IncompatibleChange, match="bump `version` to 2"):
        generate(lib_copy, [UserRegisteredWithoutEmail])

    assert {path: path.read_bytes() for path in lib_copy.rglob("*") if path.is_file()} == before


def test_a_compatible_change_is_out_of_date_until_generated(lib_copy: Path) -> None:
    events = [UserRegisteredWithLocale]

    assert _problems_about(USER_REGISTERED_V1, check(lib_copy, events)) == [
        f"{USER_REGISTERED_V1}: {OUT_OF_DATE}"
    ]
    assert USER_REGISTERED_V1 in generate(lib_copy, events)
    assert check(lib_copy, events) == []


def test_a_bumped_version_is_recorded_beside_the_old_one(lib_copy: Path) -> None:
    v1 = (lib_copy / USER_REGISTERED_V1).read_bytes()

    assert _problems_about(USER_REGISTERED_V2, check(lib_copy, [UserRegisteredV2])) == [
        f"{USER_REGISTERED_V2}: {UNRECORDED_VERSION}"
    ]
    assert USER_REGISTERED_V2 in generate(lib_copy, [UserRegisteredV2])
    assert check(lib_copy, [UserRegisteredV2]) == []
    assert (lib_copy / USER_REGISTERED_V1).read_bytes() == v1


def test_the_command_generates_then_checks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--lib-root", str(tmp_path)]) == 1
    assert UNRECORDED_VERSION in capsys.readouterr().err

    assert main(["generate", "--lib-root", str(tmp_path)]) == 0
    assert main(["check", "--lib-root", str(tmp_path)]) == 0


def test_the_command_refuses_a_hand_edited_breaking_schema(
    lib_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A committed schema that promises more than the model (here, an extra field) is kept."""
    schema_file = lib_copy / USER_REGISTERED_V1
    promised = json.loads(schema_file.read_text())
    promised["properties"]["locale"] = {"type": "string"}
    promised["required"].append("locale")
    schema_file.write_text(json.dumps(promised))

    assert main(["generate", "--lib-root", str(lib_copy)]) == 1
    assert "$.locale: removed" in capsys.readouterr().err
    assert json.loads(schema_file.read_text()) == promised
