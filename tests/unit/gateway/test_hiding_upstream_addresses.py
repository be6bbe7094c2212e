"""Rewriting URLs that name an upstream, and only those, in an answer's headers."""

from __future__ import annotations

import pytest
from strangler_gateway.locations import PublicLocations

LOCATIONS = PublicLocations(["http://127.0.0.1:8001", "http://billing.internal"])


@pytest.mark.parametrize(
    ("location", "public"),
    [
        ("http://127.0.0.1:8001/api/billing/invoices", "/api/billing/invoices"),
        ("http://127.0.0.1:8001", "/"),
        ("HTTP://127.0.0.1:8001/a?b=1#c", "/a?b=1#c"),
        ("//127.0.0.1:8001/a", "/a"),
        ("http://billing.internal:80/api/billing/x", "/api/billing/x"),
        ("http://127.0.0.1:8002/a", "http://127.0.0.1:8002/a"),
        ("https://127.0.0.1:8001/a", "https://127.0.0.1:8001/a"),
        ("/already/relative", "/already/relative"),
        ("https://payments.example.com/3ds", "https://payments.example.com/3ds"),
        ("http://[::1", "http://[::1"),
    ],
)
def test_a_location_naming_an_upstream_loses_its_origin_and_no_other(
    location: str, public: str
) -> None:
    [(_, rewritten)] = LOCATIONS.rewrite([(b"location", location.encode())])

    assert rewritten.decode() == public


def test_headers_that_carry_no_url_pass_untouched() -> None:
    headers = [(b"x-note", b"http://127.0.0.1:8001/a"), (b"content-type", b"text/plain")]

    assert LOCATIONS.rewrite(headers) == headers
