"""A real HTTP server publishing a JWKS, for tests that need the auth service's keys without
the auth service: ``serving_jwks(keys)`` binds 127.0.0.1 on a free port, serves
``/.well-known/jwks.json`` from a list the test may change (a rotation), and counts fetches.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from strangler_tokens import SigningKey, jwks_document

__all__ = ["JWKS_PATH", "PublishedJwks", "serving_jwks"]

JWKS_PATH = "/.well-known/jwks.json"


@dataclass
class PublishedJwks:
    url: str
    keys: list[SigningKey]
    fetches: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def document(self) -> bytes:
        with self._lock:
            self.fetches += 1
            return json.dumps(jwks_document(key.public_jwk() for key in self.keys)).encode()


@contextmanager
def serving_jwks(keys: list[SigningKey]) -> Iterator[PublishedJwks]:
    published: PublishedJwks | None = None

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            assert published is not None
            if self.path != JWKS_PATH:
                self.send_error(404)
                return
            body = published.document()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "public, max-age=300")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    host, port = server.server_address[:2]
    published = PublishedJwks(f"http://{host!s}:{port}{JWKS_PATH}", keys)
    thread = threading.Thread(target=server.serve_forever, name="jwks-server", daemon=True)
    thread.start()
    try:
        yield published
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
