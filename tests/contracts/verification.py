"""Replaying pacts against a real provider process, and reading what failed.

``verify`` runs Pact's verifier (its Rust core) on every pact in the pact directory that
names ``provider``; ``Broken`` lines are what the gate prints: the consumer, the interaction
and the mismatch (the field, what was expected, what came back).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
import subprocess
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from pact import Verifier
from pact.types import Message

from tests.contracts.pacts import pact_dir
from tests.support.service_process import (
    ServiceProcess,
    console_script,
    launch,
    wait_until_ready,
)

__all__ = [
    "Broken",
    "Verification",
    "outbox_payload",
    "pacts_for",
    "provider_process",
    "verify",
]


PREPARE_TIMEOUT_SECONDS = 120
REQUEST_TIMEOUT_MS = 120_000


@dataclass(frozen=True)
class Broken:
    consumer: str
    provider: str
    interaction: str
    mismatch: str


@dataclass(frozen=True)
class Verification:
    provider: str
    interactions: int
    broken: list[Broken]

    def table(self) -> str:
        return "\n".join(
            f"  {b.consumer} → {b.provider} | {b.interaction} | {b.mismatch}" for b in self.broken
        )


def pacts_for(provider: str) -> list[Path]:
    found = []
    for path in sorted(pact_dir().glob("*.json")):
        document = json.loads(path.read_text())
        if document["provider"]["name"] == provider:
            found.append(path)
    return found


@contextmanager
def provider_process(
    name: str, script: str, settings_env: dict[str, str], log_dir: Path, *, prepare: bool = False
) -> Iterator[ServiceProcess]:
    """The provider as it runs in production: its console script on a free port of 127.0.0.1
    (after ``SCRIPT prepare``, its migrations and keys, when ``prepare``)."""
    env = {**os.environ, **settings_env}
    if prepare:
        subprocess.run(
            [console_script(script), "prepare"],
            env=env,
            check=True,
            capture_output=True,
            timeout=PREPARE_TIMEOUT_SECONDS,
        )
    process = launch(name, script, env, log_dir / f"{name}.log", ready_path="/health/ready")
    try:
        asyncio.run(wait_until_ready(process))
        yield process
    finally:
        process.stop()


# A provider state's setup may answer values the pact's requests use (Pact's provider-state
# injected values, ``generate.provider_state("${name}")``): the id of what it created.
StateSetup = Callable[[], Mapping[str, object] | None]


def verify(
    provider: str,
    url: str | None,
    *,
    states: Mapping[str, StateSetup] | None = None,
    messages: dict[str, Callable[..., Message] | Message | bytes] | None = None,
    headers: dict[str, str] | None = None,
) -> Verification:
    """Every pact naming ``provider`` replayed against ``url`` (HTTP), or against ``messages``
    (a producer function per message description); ``headers`` replace the pact's own.

    ``states`` set each provider state up before an interaction given it; what a setup
    returns is handed to the verifier for the values a request takes from its state."""
    pacts = pacts_for(provider)
    assert pacts, f"no pact names {provider!r} in {pact_dir()}: run the consumer tests first"
    verifier = Verifier(provider, host="127.0.0.1").set_error_on_empty_pact(enabled=True)
    verifier.set_coloured_output(enabled=False)
    # A message is produced by requests to the provider (an argon2 hash or three): on a busy
    # machine that takes longer than the verifier's 5 s default for each request.
    verifier.set_request_timeout(REQUEST_TIMEOUT_MS)
    if url is not None:
        verifier.add_transport(url=url)
    if messages is not None:
        verifier.message_handler(messages)
    if headers:
        # Credentials of this run (an operator token) in place of the pact's examples.
        verifier.add_custom_headers(headers)
    for pact in pacts:
        verifier.add_source(pact)
    interactions = sum(len(json.loads(p.read_text())["interactions"]) for p in pacts)
    with _state_server(states or {}) as state_url:
        if states:
            verifier.state_handler(state_url, teardown=True, body=True)
        try:
            verifier.verify()
        except RuntimeError:
            broken = _broken(provider, verifier.results)
            verification = Verification(provider, interactions, broken)
        else:
            verification = Verification(provider, interactions, [])
    _record(verification)
    return verification


def _record(verification: Verification) -> None:
    """Written beside the pacts for the gate's matrix (tests/contracts/gate.py)."""
    results = pact_dir() / "results"
    results.mkdir(exist_ok=True)
    (results / f"{verification.provider}.json").write_text(
        json.dumps(
            {
                "provider": verification.provider,
                "interactions": verification.interactions,
                "broken": [vars(b) for b in verification.broken],
            },
            indent=2,
        )
    )


@contextmanager
def _state_server(states: Mapping[str, StateSetup]) -> Iterator[str]:
    """The verifier's state-change URL: ``{"state", "action", "params"}`` POSTed before
    (setup) and after (teardown, ignored) each interaction; a setup answers, as JSON, the
    values its state provides. A state nobody set up, or a setup that raised, is a 500,
    which fails the interaction."""

    class StateChange(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            change = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            values: Mapping[str, object] | None = {}
            if change.get("action") == "setup" and change.get("state"):
                setup = states.get(change["state"])
                try:
                    if setup is None:
                        raise LookupError(f"no setup for the provider state {change['state']!r}")
                    values = setup()
                except Exception as failed:  # reported to the verifier, which fails the case
                    self._answer(500, {"error": f"{type(failed).__name__}: {failed}"})
                    return
            self._answer(200, dict(values or {}))

        def _answer(self, status: int, body: Mapping[str, object]) -> None:
            encoded = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(encoded)))
            self.end_headers()
            self.wfile.write(encoded)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), StateChange)
    thread = threading.Thread(target=server.serve_forever, name="pact-states", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/pact/states"
    finally:
        server.shutdown()
        server.server_close()


def _broken(provider: str, results: dict[str, Any]) -> list[Broken]:
    broken = []
    for error in results.get("errors", []):
        interaction = str(error.get("interaction", "?"))
        mismatch = error.get("mismatch", {})
        lines = []
        for each in mismatch.get("mismatches", []) or [mismatch]:
            path = each.get("path") or each.get("type", "")
            lines.append(f"{path}: {each.get('mismatch') or each.get('message') or each}")
        consumer = _consumer_of(interaction)
        broken.append(Broken(consumer, provider, interaction, "; ".join(lines)))
    return broken


def _consumer_of(interaction: str) -> str:
    """The verifier names an interaction "Verifying a pact between C and P Given S - D"."""
    found = re.match(r"Verifying a pact between (\S+) and ", interaction)
    return found.group(1) if found else "?"


def outbox_payload(database: Path, event_type: str) -> dict[str, Any]:
    """The newest outbox row of ``event_type``: what the relay publishes next."""
    with sqlite3.connect(database) as connection:
        row = connection.execute(
            "SELECT payload FROM outbox WHERE event_type = ? ORDER BY position DESC LIMIT 1",
            (event_type,),
        ).fetchone()
    assert row is not None, f"the producer wrote no {event_type} to its outbox"
    payload: dict[str, Any] = json.loads(row[0])
    return payload
