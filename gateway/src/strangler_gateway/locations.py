"""No answer through the gateway names an upstream's address.

An upstream builds absolute URLs from the ``Host`` it was sent — the gateway's connection to
it, e.g. ``http://127.0.0.1:8001`` — in a redirect's ``Location``, in ``Content-Location``,
``Refresh`` and ``Link``. Followed by a client, such a URL goes around the gateway: around its
routing, its kill switch and its rollback. Each such URL is rewritten to the same path with no
origin (``/api/billing/invoices?page=2``), which the client resolves against the gateway it
asked, as nginx's ``proxy_redirect default`` does. A relative URL needs no trusted public host
name, so a client-sent ``Host`` can never be reflected into it. URLs naming other origins
(a payment provider's page) pass untouched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

__all__ = ["PublicLocations"]

_URL_HEADERS = frozenset({b"location", b"content-location"})
_REWRITTEN_HEADERS = _URL_HEADERS | {b"refresh", b"link"}
_REFRESH_URL = re.compile(rb"(?i)(url\s*=\s*['\"]?)([^'\";\s]+)")
_LINK_TARGET = re.compile(rb"<([^>]*)>")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[parts.scheme]


class PublicLocations:
    """Rewrites URLs naming any of ``upstreams`` (base URLs) in an answer's headers."""

    def __init__(self, upstreams: Iterable[str]) -> None:
        self._origins = {origin for url in upstreams if (origin := _origin(url)) is not None}

    def rewrite(self, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        """``headers`` (names in lower case) with upstream URLs made origin-relative."""
        for name, _ in headers:
            if name in _REWRITTEN_HEADERS:
                return [(name, self._rewritten(name, value)) for name, value in headers]
        return headers  # most answers: nothing to rewrite

    def _rewritten(self, name: bytes, value: bytes) -> bytes:
        if name in _URL_HEADERS:
            return self._relative(value)
        if name == b"refresh":
            return _REFRESH_URL.sub(lambda m: m[1] + self._relative(m[2]), value)
        if name == b"link":
            return _LINK_TARGET.sub(lambda m: b"<" + self._relative(m[1]) + b">", value)
        return value

    def _relative(self, url: bytes) -> bytes:
        text = url.decode("latin-1").strip()
        if text.startswith("//"):  # scheme-relative: the scheme of the upstream's own URL
            text = "http:" + text
        if _origin(text) not in self._origins:
            return url
        parts = urlsplit(text)
        relative = parts.path if parts.path.startswith("/") else "/" + parts.path
        if parts.query:
            relative += "?" + parts.query
        if parts.fragment:
            relative += "#" + parts.fragment
        return relative.encode("latin-1")
