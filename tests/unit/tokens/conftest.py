"""A JWKS served through httpx's ``MockTransport``: the key set a verifier fetches, and what
each fetch cost."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
from strangler_tokens import JwksKeys, SigningKey, jwks_document


@dataclass
class PublishedKeys:
    """What the fake auth service publishes; ``down`` makes every fetch fail."""

    keys: list[SigningKey] = field(default_factory=list)
    max_age: int = 300
    down: bool = False
    fetches: int = 0
    entries: list[dict[str, str]] | None = None
    """JWK entries served as they are instead of ``keys``' public JWKs."""

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.fetches += 1
        if self.down:
            return httpx.Response(503, json={"title": "down"})
        entries = self.entries or [key.public_jwk() for key in self.keys]
        document = jwks_document(entries)
        return httpx.Response(
            200, json=document, headers={"Cache-Control": f"public, max-age={self.max_age}"}
        )


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def signing_key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture
def published(signing_key: SigningKey) -> PublishedKeys:
    return PublishedKeys([signing_key])


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def jwks(published: PublishedKeys, clock: FakeClock) -> AsyncIterator[JwksKeys]:
    client = httpx.AsyncClient(transport=httpx.MockTransport(published.handle))
    keys = JwksKeys(
        "http://auth.test/.well-known/jwks.json",
        client=client,
        min_refetch_seconds=10,
        clock=clock,
    )
    yield keys
    await client.aclose()
