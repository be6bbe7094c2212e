"""The shadow comparison: structured JSON differences, status and content type."""

from __future__ import annotations

import json

from strangler_gateway.shadow import MAX_COMPARED_BODY_BYTES, Capture, compare, diff_json


def _json(status: int, document: object) -> Capture:
    return Capture(status, "application/json", bytearray(json.dumps(document).encode()))


def test_equal_documents_have_no_difference_whatever_the_key_order() -> None:
    legacy = _json(200, {"id": 1, "items": [{"total": 10}]})
    new = Capture(200, "application/json", bytearray(b'{"items": [{"total": 10}], "id": 1}'))

    assert compare(legacy, new) == []


def test_differences_are_named_field_by_field() -> None:
    lines = diff_json(
        {"id": 1, "items": [{"total": 10}], "legacy_only": True},
        {"id": 1, "items": [{"total": 12}], "new_only": "x"},
    )

    assert lines == [
        "/items/0/total: 10 != 12",
        "/legacy_only: only in legacy",
        "/new_only: only in new",
    ]


def test_a_type_change_and_a_list_length_are_differences() -> None:
    assert diff_json({"n": 1}, {"n": "1"}) == ['/n: 1 != "1"']
    assert diff_json([1, 2], [1]) == ["/: 2 items != 1 items"]


def test_status_and_content_type_are_compared_and_non_json_bodies_byte_for_byte() -> None:
    legacy = Capture(200, "text/plain", bytearray(b"hello"))
    new = Capture(500, "text/html", bytearray(b"oops"))

    assert compare(legacy, new) == [
        "status: 200 != 500",
        "content-type: 'text/plain' != 'text/html'",
        "body: 5 bytes != 4 bytes",
    ]


def test_bodies_too_large_to_compare_are_not_kept() -> None:
    capture = Capture(200, "application/json")

    capture.add(b"x" * (MAX_COMPARED_BODY_BYTES + 1))

    assert capture.truncated
    assert capture.body == bytearray()
