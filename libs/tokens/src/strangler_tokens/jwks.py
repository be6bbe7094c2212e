"""The auth service's public keys, fetched from its JWKS over HTTP and kept between requests.

Fetched on first use, again when the document's ``max-age`` has passed, and again when a
token names a key id not in the set (the next key is published before it signs, so this
happens only to a verifier that fetched just before a rotation — or to a forged token).
Every fetch, whatever caused it, waits at least ``min_refetch_seconds`` after the last
attempt: a flood of tokens with made-up key ids costs the JWKS one request per interval.
A failed fetch keeps the keys already held; only a verifier that never got a key set
raises ``KeysUnavailable``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from strangler_tokens.keys import public_key_from_jwk
from strangler_tokens.refusals import KeysUnavailable

__all__ = ["JwksKeys"]

logger = logging.getLogger(__name__)

_MAX_AGE = re.compile(r"max-age\s*=\s*(\d+)")
MAX_DOCUMENT_BYTES = 64 * 1024


class JwksKeys:
    """The key set published at ``url``, by key id."""

    def __init__(
        self,
        url: str,
        *,
        client: httpx.AsyncClient | None = None,
        min_refetch_seconds: float = 10.0,
        default_max_age_seconds: float = 300.0,
        timeout_seconds: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._client = client
        self._owns_client = client is None
        self._min_refetch = min_refetch_seconds
        self._default_max_age = default_max_age_seconds
        self._timeout = timeout_seconds
        self._clock = clock
        self._keys: dict[str, Ed25519PublicKey] | None = None
        self._fresh_until = 0.0
        self._last_attempt: float | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0
        """Fetch attempts so far: how a test or an operator sees the refetch bound hold."""

    async def key(self, kid: str) -> Ed25519PublicKey | None:
        """The public key ``kid`` names, or None when the key set (fetched anew if it may be)
        has no such key. ``KeysUnavailable`` when no key set was ever fetched."""
        keys = self._keys
        if keys is not None and kid in keys and self._clock() < self._fresh_until:
            return keys[kid]
        await self._refresh_if_allowed()
        if self._keys is None:
            raise KeysUnavailable(f"the key set at {self.url} could not be fetched")
        return self._keys.get(kid)

    async def aclose(self) -> None:
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _refresh_if_allowed(self) -> None:
        async with self._lock:
            now = self._clock()
            if self._last_attempt is not None and now - self._last_attempt < self._min_refetch:
                return
            self._last_attempt = now
            self.fetches += 1
            try:
                keys, max_age = await self._fetch()
            except (httpx.HTTPError, ValueError) as exc:
                logger.warning("fetching the key set at %s failed: %s", self.url, exc)
                return
            self._keys = keys
            self._fresh_until = now + max_age

    async def _fetch(self) -> tuple[dict[str, Ed25519PublicKey], float]:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout)
        response = await self._client.get(self.url, headers={"Accept": "application/json"})
        response.raise_for_status()
        if len(response.content) > MAX_DOCUMENT_BYTES:
            raise ValueError("the key set is larger than any real one")
        document = response.json()
        entries = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(entries, list):
            raise ValueError('the document has no "keys" list')
        keys: dict[str, Ed25519PublicKey] = {}
        for entry in entries:
            kid = entry.get("kid") if isinstance(entry, dict) else None
            if not isinstance(kid, str):
                continue
            try:
                keys[kid] = public_key_from_jwk(entry)
            except ValueError as exc:
                logger.info("key %r in %s is not used: %s", kid, self.url, exc)
        return keys, self._max_age(response.headers.get("cache-control", ""))

    def _max_age(self, cache_control: str) -> float:
        match = _MAX_AGE.search(cache_control.lower())
        return float(match.group(1)) if match else self._default_max_age
