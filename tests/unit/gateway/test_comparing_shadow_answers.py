"""The comparison of two answers: field-level JSON differences and the rules that silence some."""

from __future__ import annotations

import json

from strangler_gateway.comparison import Answer, CompareRules, compare, diff_json, lines
from strangler_gateway.shadow import MAX_COMPARED_BODY_BYTES, Capture

JSON = {"content-type": "application/json"}


def _json(status: int, document: object) -> Answer:
    return Answer(status, JSON, json.dumps(document).encode())


def test_equal_documents_have_no_difference_whatever_the_key_order() -> None:
    legacy = _json(200, {"id": 1, "items": [{"total": 10}]})
    new = Answer(200, JSON, b'{"items": [{"total": 10}], "id": 1}')

    assert compare(legacy, new) == []


def test_differences_are_named_field_by_field() -> None:
    differences = diff_json(
        {"id": 1, "items": [{"total": 10}], "legacy_only": True},
        {"id": 1, "items": [{"total": 12}], "new_only": "x"},
    )

    assert lines(differences) == [
        "/items/0/total: 10 != 12",
        "/legacy_only: present != absent",
        "/new_only: absent != present",
    ]


def test_a_type_change_and_a_list_length_are_differences() -> None:
    assert lines(diff_json({"n": 1}, {"n": "1"})) == ['/n: 1 != "1"']
    assert lines(diff_json([1, 2], [1])) == ["/: 2 items != 1 items"]


def test_status_selected_headers_and_non_json_bodies_are_compared() -> None:
    legacy = Answer(200, {"content-type": "text/plain", "date": "Mon"}, b"hello")
    new = Answer(500, {"content-type": "text/html", "date": "Tue"}, b"oops")

    assert lines(compare(legacy, new)) == [
        "status: 200 != 500",
        "header:content-type: 'text/plain' != 'text/html'",
        "body: 5 bytes != 4 bytes",
    ]


def test_ignored_fields_do_not_count_at_any_depth_or_in_every_item() -> None:
    rules = CompareRules(ignore=("**/created_at", "/items/*/id"))
    legacy = {"created_at": "t1", "items": [{"id": "a", "total": 1, "created_at": "t1"}]}
    new = {"created_at": "t2", "items": [{"id": "b", "total": 1, "created_at": "t3"}]}

    assert diff_json(legacy, new, rules) == []
    assert lines(diff_json(legacy, {**new, "items": [{"id": "b", "total": 2}]}, rules)) == [
        "/items/0/total: 1 != 2"
    ]


def test_an_ignored_field_is_only_that_field() -> None:
    rules = CompareRules(ignore=("/items/*/id",))

    assert lines(diff_json({"id": 1}, {"id": 2}, rules)) == ["/id: 1 != 2"]


def test_an_unordered_array_is_compared_as_a_set() -> None:
    rules = CompareRules(unordered=("/roles",))
    legacy = {"roles": [{"name": "admin"}, {"name": "billing"}], "steps": [1, 2]}
    new = {"roles": [{"name": "billing"}, {"name": "admin"}], "steps": [1, 2]}

    assert diff_json(legacy, new, rules) == []
    assert lines(diff_json({"steps": [1, 2]}, {"steps": [2, 1]}, rules)) == [
        "/steps/0: 1 != 2",
        "/steps/1: 2 != 1",
    ]


def test_unordered_items_are_matched_without_their_ignored_fields() -> None:
    rules = CompareRules(ignore=("**/id",), unordered=("/lines",))
    legacy = {"lines": [{"id": "x1", "sku": "a"}, {"id": "x2", "sku": "b"}]}
    new = {"lines": [{"id": "y9", "sku": "b"}, {"id": "y1", "sku": "a"}]}

    assert diff_json(legacy, new, rules) == []


def test_problem_documents_are_compared_as_json() -> None:
    problem = {"content-type": "application/problem+json"}
    legacy = Answer(404, problem, b'{"title": "Unknown invoice", "detail": "no inv_1"}')
    new = Answer(404, problem, b'{"title": "Unknown invoice", "detail": "no inv_2"}')

    assert lines(compare(legacy, new)) == ['/detail: "no inv_1" != "no inv_2"']


def test_bodies_too_large_to_compare_are_not_kept() -> None:
    capture = Capture(200, JSON)

    capture.add(b"x" * (MAX_COMPARED_BODY_BYTES + 1))

    assert capture.truncated
    assert capture.body == bytearray()
    assert capture.answer().truncated
