"""Registering and logging in with addresses as people type them, and as attackers type them."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.support.monolith_api import assert_problem, log_in, register
from tests.support.monolith_database import Snapshot

DECOMPOSED_E = "e\u0301"


def tag() -> str:
    return uuid.uuid4().hex[:8]


async def test_a_user_who_typed_a_decomposed_accent_logs_in_with_exactly_what_they_typed(
    client: httpx.AsyncClient,
) -> None:
    typed = f"jos{DECOMPOSED_E}-{tag()}@example.com"

    registered = await register(client, typed)

    assert registered.status_code == 201, registered.text
    assert registered.json()["email"] == typed.replace(DECOMPOSED_E, "\u00e9")
    assert (await log_in(client, typed)).status_code == 200
    assert (await log_in(client, typed.replace(DECOMPOSED_E, "\u00e9").upper())).status_code == 200


@pytest.mark.parametrize(
    ("original", "lookalike"),
    [
        ("info-{t}@example.com", "\u0130nfo-{t}@example.com"),  # capital I with dot above
        ("strasse-{t}@example.com", "stra\u00dfe-{t}@example.com"),  # sharp s
        ("ada-{t}@b\u00fccher.example", "ada-{t}@xn--bcher-kva.example"),  # punycode
        ("ada-{t}@example.com", "ADA-{t}@Example.COM"),
    ],
)
async def test_a_look_alike_of_a_registered_address_is_a_duplicate(
    client: httpx.AsyncClient, snapshot: Snapshot, original: str, lookalike: str
) -> None:
    t = tag()
    assert (await register(client, original.format(t=t))).status_code == 201
    before = await snapshot()

    response = await register(client, lookalike.format(t=t))

    assert_problem(response, 409, "duplicate-email")
    assert await snapshot() == before


@pytest.mark.parametrize(
    "lookalike",
    [
        "\uff41da-{t}@example.com",  # fullwidth a
        "o\ufb03ce-{t}@example.com",  # ffi ligature
        "ada-{t}@ex\u0430mple.com",  # Cyrillic a in the domain
        "\u0430da-{t}@example.com",  # Cyrillic a in the local part
        "ada-{t}@\u0430\u0440\u0440\u04cf\u0435.com",  # a Cyrillic label that reads "apple"
        "a\u200dda-{t}@example.com",  # zero-width joiner
    ],
)
async def test_a_confusable_address_is_refused_with_a_problem_naming_the_email(
    client: httpx.AsyncClient, snapshot: Snapshot, lookalike: str
) -> None:
    before = await snapshot()

    response = await register(client, lookalike.format(t=tag()))

    problem = assert_problem(response, 422, "validation-failed")
    assert [error["pointer"] for error in problem["errors"]] == ["/email"]
    assert await snapshot() == before


async def test_logging_in_with_a_confusable_address_is_just_wrong_credentials(
    client: httpx.AsyncClient,
) -> None:
    response = await log_in(client, f"\uff41da-{tag()}@example.com")

    assert_problem(response, 401, "invalid-credentials")
