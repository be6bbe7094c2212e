"""What does the gateway cost per request, compared with nginx in front of the same monolith?

    .venv/bin/python bench/gateway.py [--seconds S] [--quick] [--connections C]
                                            [--path P] [--timeout S]
    make bench-gateway BENCH_GATEWAY_ARGS="--quick"

One run starts everything it measures as real processes on free 127.0.0.1 ports, with its
files in a temporary folder, and stops them all again (also on Ctrl-C, on errors and after
``--timeout`` seconds):

- two legacy monoliths (``legacy-monolith serve``), each on its own copy of one prepared
  SQLite database. *legacy* answers as the monolith; *new* stands in for the extracted
  billing service, so that canary and shadow have a real second side;
- nginx in front of *legacy*: one worker process, upstream keep-alive, an access log;
- the gateway (``strangler-gateway serve``): one process, legacy to *legacy*, billing to
  *new*, without an access log (its default: request ids and ``/metrics`` instead). Its
  billing flag is set through the admin API (``PUT /_strangler/flags/billing``) before each
  scenario.

nginx and wrk are installed from Debian's packages (``apt-get``) when they are not on PATH.

wrk loads ``GET /api/billing/plans`` (public, JSON, read from the database) in these
scenarios: ``direct`` (the monolith itself, no proxy), ``nginx``, ``gateway-legacy``,
``gateway-canary-50``, ``gateway-shadow``, then ``gateway-legacy`` once more: the spread
between the two legacy runs is this run's own measure of noise. ``bare stack`` is the bound
under the gateway's figures: the gateway's server and client with none of the gateway in
between — uvicorn on uvloop with the same protocol (``bounded_head_protocol``) and one plain
ASGI function forwarding each request to *legacy* through the gateway's own upstream client —
so ``gateway-legacy`` minus ``bare stack`` is what the gateway's logic costs, and ``bare
stack`` ÷ nginx what any gateway on this stack starts from. Each scenario has a warm-up
(which opens the upstream connection pools) and two passes:

- **throughput**: C connections (32) for S seconds, as fast as they go. Requests/s, and the
  CPU the proxy used (utime + stime of the nginx master and worker, or of the gateway, read
  from ``/proc/<pid>/stat``) divided by the requests wrk completed; the monoliths' CPU per
  request beside it;
- **latency**: one connection for S seconds; p50 and p99. Under saturation a closed loop's
  latency is only C / throughput; one request at a time shows what the proxy adds to each.

**auth-at-edge** (issue 13.4): ``GET /api/users/me`` (one query, like the plan list) with one
user's bearer token — an auth service EdDSA token, its JWKS a static file served by
``python -m http.server`` — with 8 connections (the monolith's pool answers 503 beyond what
it can queue), through the gateway as it is (``auth-at-edge, off``) and through a second
gateway process on the same flag database that verifies the token at the edge
(``auth-at-edge, on``: JWKS fetched once, the verified token cached until it expires, the
subject handed on in ``X-Strangler-Verified-User``), off and on twice in turn. The users
route stays on legacy; the monolith verifies the token in both. Target: the gateway's CPU per
request verifying at most 1.1 times that without, both measured in this run.

Canary needs distinct users: wrk sends no cookie, so the gateway gives every request a fresh
``strangler_uid`` and the 50/50 split is per request; the share actually served by *new* is
read from the gateway's ``/metrics``. In shadow the mirrors are bounded and dropped, not
queued, when too many are in flight: the admin API's mirrored / dropped / compared figures
are printed for each pass.

Why ratios: this is a small shared machine, and absolute figures say as much about whatever
else runs on it as about the code. nginx and the monolith are measured in the same run under
the same conditions, so "gateway ÷ nginx" and "gateway - direct" carry the gateway's own
cost. The issue's targets are checked against those; a missed target is reported, not an
error. A scenario that cannot run (a process that does not start, a non-2xx answer, a socket
error) is an error: exit status 1.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from harness import (
    BenchFailed,
    Children,
    Column,
    bench_arguments,
    console_script,
    cpu_seconds,
    free_ports,
    load_average,
    machine_note,
    print_notes,
    print_table,
    ratio,
    run_bench,
    run_captured,
    run_step,
    verdict,
)
from strangler_tokens import SigningKey, issue_access_token, jwks_document

HOST = "127.0.0.1"
ROUTE = "billing"
DEFAULT_PATH = "/api/billing/plans"
AUTHENTICATED_PATH = "/api/users/me"
EDGE_AUTH_CONNECTIONS = 8
JWKS_PATH = "/.well-known/jwks.json"
LATENCY_CONNECTIONS = 1
READY_TIMEOUT_SECONDS = 90.0
SETTLE_SECONDS = 0.5
NOISE_ALLOWANCE = 0.10
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
POLICY_RC = Path("/usr/sbin/policy-rc.d")

SHADOW_COUNTERS = ("mirrored", "dropped", "compared", "differing", "noisy", "failed")
TARGETS = {"throughput": 1.0, "cpu": 3.0, "added_p50_ms": 0.5}  # issue 12, item 3
BARE = "bare stack"

# The bound: the gateway's server (uvicorn, uvloop, the same protocol) and its upstream client,
# forwarding with nothing of the gateway in between. Run as ``python -c BARE_STACK PORT URL``.
BARE_STACK = """
import gc, sys
import uvicorn
from http_platform.request_head import bounded_head_protocol
from strangler_gateway.upstream_client import Upstream

port, upstream_url = int(sys.argv[1]), sys.argv[2]
upstream = None
OWN = frozenset({b"host", b"connection", b"keep-alive", b"date", b"server"})

async def forward(scope, receive, send):
    global upstream
    if scope["type"] != "http":
        return
    if upstream is None:
        upstream = Upstream(upstream_url, limit=32, connect_timeout=2.0, read_timeout=30.0,
                            wait_timeout=30.0, keepalive_seconds=4.0)
        gc.collect()
        gc.freeze()
    query = scope["query_string"]
    target = scope["raw_path"] + (b"?" + query if query else b"")
    headers = [pair for pair in scope["headers"] if pair[0] not in OWN]
    answer = await upstream.request(scope["method"], target.decode("latin-1"), headers)
    async with answer:
        body = await answer.read()
    headers = [(k.lower(), v) for k, v in answer.raw_headers if k.lower() not in OWN]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

uvicorn.run(forward, host="127.0.0.1", port=port, loop="uvloop", lifespan="off",
            http=bounded_head_protocol(64 * 1024), proxy_headers=False, access_log=False,
            log_level="warning")
"""
EDGE_AUTH_CPU_TARGET = 1.1  # issue 13, item 4: CPU/request verifying ÷ not verifying

WRK_REPORT = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'wrk-figures {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"status": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect, e.read, e.write, e.timeout))
end
"""

# The headers the gateway adds upstream, added here too, so both proxies do the same work.
NGINX_CONF = """\
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    upstream legacy {{
        server {upstream};
        keepalive 64;
    }}
    server {{
        listen {listen};
        location / {{
            proxy_pass http://legacy;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Request-ID $request_id;
            proxy_max_temp_file_size 0;
        }}
    }}
}}
"""


@dataclass(frozen=True)
class Settings:
    seconds: int
    warm_up_seconds: int
    connections: int
    path: str
    timeout: float


# ---------------------------------------------------------------- tools and processes


def find_command(name: str) -> str | None:
    """``name`` on PATH, or in /usr/sbin (nginx), which a user's PATH may lack."""
    return shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin"]))


@contextlib.contextmanager
def services_kept_down() -> Iterator[None]:
    """Installing nginx must not start a system nginx on port 80 (policy-rc.d, exit 101)."""
    if POLICY_RC.exists():
        yield
        return
    POLICY_RC.write_text("#!/bin/sh\nexit 101\n")
    POLICY_RC.chmod(0o755)
    try:
        yield
    finally:
        POLICY_RC.unlink(missing_ok=True)


def ensure_commands(names: Sequence[str]) -> dict[str, str]:
    """The path of each command; those missing are installed with apt-get (needs root)."""
    missing = [name for name in names if find_command(name) is None]
    if missing:
        if os.geteuid() != 0 or find_command("apt-get") is None:
            raise BenchFailed(f"{', '.join(missing)} not found; install them (apt-get install)")
        print(f"installing {' '.join(missing)} with apt-get ...", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        with services_kept_down():
            run_step(["apt-get", "update", "-qq"], env, timeout=300)
            run_step(["apt-get", "install", "-y", "-qq", *missing], env, timeout=600)
    found = {name: find_command(name) for name in names}
    absent = [name for name, path in found.items() if path is None]
    if absent:
        raise BenchFailed(f"still not found after apt-get install: {', '.join(absent)}")
    return {name: path for name, path in found.items() if path is not None}


_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http(
    method: str, url: str, *, token: str | None = None, body: object = None, timeout: float = 10
) -> tuple[int, bytes]:
    """One request with the standard library, never through an environment proxy."""
    headers = {"X-Strangler-Actor": "bench/gateway.py"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with _NO_PROXY.open(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_ready(url: str, process: subprocess.Popen[bytes], name: str, children: Children) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchFailed(
                f"{name} exited with {process.returncode} before it was ready:\n"
                f"{children.tail(name)}"
            )
        with contextlib.suppress(OSError):
            if http("GET", url, timeout=2)[0] == 200:
                return
        time.sleep(0.2)
    raise BenchFailed(f"{name}: {url} not ready after {READY_TIMEOUT_SECONDS:g} s")


@dataclass(frozen=True)
class Load:
    """What one wrk run reports; latencies in seconds."""

    connections: int
    requests: int
    seconds: float
    p50: float
    p99: float
    status_errors: int
    socket_errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


class Wrk:
    """wrk with a Lua ``done`` hook that prints its figures as one JSON line: no units to parse."""

    def __init__(self, command: str, folder: Path) -> None:
        self._command = command
        self._script = folder / "report.lua"
        self._script.write_text(WRK_REPORT)

    def version(self) -> str:
        completed = subprocess.run(
            [self._command, "-v"], capture_output=True, text=True, timeout=10, check=False
        )
        first_line = (completed.stdout + completed.stderr).splitlines()[0]
        return first_line.split(" Copyright")[0].strip()

    def run(self, url: str, connections: int, seconds: int, headers: Sequence[str] = ()) -> Load:
        argv = [self._command, "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
                "-s", str(self._script), *(f"-H{h}" for h in headers), url]  # fmt: skip
        completed = run_captured(argv, timeout=seconds + 30)
        line = next(
            (ln for ln in completed.stdout.splitlines() if ln.startswith("wrk-figures ")), None
        )
        if completed.returncode != 0 or line is None:
            raise BenchFailed(
                f"wrk against {url} exited with {completed.returncode}:\n"
                f"{completed.stdout}{completed.stderr}"
            )
        figures: dict[str, int] = json.loads(line.removeprefix("wrk-figures "))
        return Load(
            connections=connections,
            requests=figures["requests"],
            seconds=figures["duration_us"] / 1e6,
            p50=figures["p50_us"] / 1e6,
            p99=figures["p99_us"] / 1e6,
            status_errors=figures["status"],
            socket_errors=sum(figures[k] for k in ("connect", "read", "write", "timeout")),
        )


# ---------------------------------------------------------------- the system under test


@dataclass(frozen=True)
class System:
    direct_url: str
    nginx_url: str
    gateway_url: str
    admin_url: str
    """The gateway's operator listener: admin API and metrics."""
    admin_token: str
    nginx: subprocess.Popen[bytes]
    gateway: subprocess.Popen[bytes]
    legacy: subprocess.Popen[bytes]
    new: subprocess.Popen[bytes]
    gateway_setup: str
    edge_gateway_url: str
    """A second gateway on the same flag database, verifying tokens at the edge."""
    edge_gateway: subprocess.Popen[bytes]
    bearer: str
    """An auth EdDSA access token of a user registered on legacy."""
    bare_url: str
    bare: subprocess.Popen[bytes]
    """The bound: the gateway's server and client, forwarding to legacy (``BARE_STACK``)."""

    def monolith_cpu(self) -> float:
        return cpu_seconds(self.legacy.pid) + cpu_seconds(self.new.pid)

    def set_flag(self, flag: Mapping[str, object]) -> None:
        """Set the billing flag and wait until the gateway routes by it (it re-reads in 0.5 s)."""
        change = {**flag, "reason": "bench/gateway.py"}
        status, body = http(
            "PUT", f"{self.admin_url}/_strangler/flags/{ROUTE}", token=self.admin_token,
            body=change,
        )  # fmt: skip
        if status != 200:
            raise BenchFailed(f"PUT flag {change}: {status} {body[:500]!r}")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.flag()["mode"] == flag["mode"]:
                return
            time.sleep(0.1)
        raise BenchFailed(f"the gateway did not take the flag {flag} within 10 s")

    def flag(self) -> dict[str, Any]:
        status, body = http("GET", f"{self.admin_url}/_strangler/flags", token=self.admin_token)
        if status != 200:
            raise BenchFailed(f"GET /_strangler/flags: {status} {body[:500]!r}")
        flags: list[dict[str, Any]] = json.loads(body)["flags"]
        return next(flag for flag in flags if flag["route"] == ROUTE)

    def shadow_figures(self) -> dict[str, int]:
        """The route's shadow counters from the admin API (those this gateway has)."""
        status, body = http(
            "GET", f"{self.admin_url}/_strangler/diffs/{ROUTE}", token=self.admin_token
        )
        if status != 200:
            raise BenchFailed(f"GET /_strangler/diffs/{ROUTE}: {status} {body[:500]!r}")
        document = json.loads(body)
        return {key: int(document[key]) for key in SHADOW_COUNTERS if key in document}

    def served(self) -> dict[str, float]:
        """Requests the gateway answered on the billing route so far, by serving side."""
        status, body = http("GET", f"{self.admin_url}/metrics")
        if status != 200:
            raise BenchFailed(f"GET /metrics: {status}")
        counts: dict[str, float] = {}
        for line in body.decode().splitlines():
            if line.startswith("strangler_gateway_requests_total{") and f'route="{ROUTE}"' in line:
                side = re.search(r'target="(\w+)"', line)
                if side is not None:
                    counts[side.group(1)] = float(line.rsplit(" ", 1)[1])
        return counts


def monolith_env(database: Path, jwt_secret: str, jwks_url: str = "") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONOLITH_", "GATEWAY_"))}
    env.update(
        MONOLITH_DATABASE_URL=f"sqlite+aiosqlite:///{database}",
        MONOLITH_JWT_SECRET=jwt_secret,
        MONOLITH_AUTH_JWKS_URL=jwks_url,
        MONOLITH_OPERATOR_TOKEN=jwt_secret,  # its /internal API is not benchmarked
        MONOLITH_OUTBOX_RELAY_ENABLED="false",  # no broker here; nothing is published anyway
    )
    return env


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy, WAL included (the SQLite backup API, not a file copy)."""
    with (
        contextlib.closing(sqlite3.connect(source)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)


def gateway_has_migrate(command: str, env: Mapping[str, str]) -> bool:
    """Whether this gateway needs ``strangler-gateway migrate`` (Alembic) before ``serve``."""
    completed = subprocess.run(
        [command, "migrate", "--help"], env=env, capture_output=True, timeout=60, check=False
    )
    return completed.returncode == 0


def start_system(folder: Path, tools: Mapping[str, str], children: Children) -> System:
    ports = free_ports(9)
    legacy_port, new_port, nginx_port, gateway_port, admin_port = ports[:5]
    edge_port, edge_admin_port, jwks_port, bare_port = ports[5:]
    monolith = console_script("legacy-monolith")
    gateway = console_script("strangler-gateway")
    jwt_secret = os.urandom(24).hex()
    admin_token = os.urandom(24).hex()

    print("preparing the monolith's database ...", flush=True)
    legacy_db, new_db = folder / "legacy.db", folder / "new.db"
    run_step([monolith, "prepare"], monolith_env(legacy_db, jwt_secret))
    copy_database(legacy_db, new_db)

    legacy_url, new_url = f"http://{HOST}:{legacy_port}", f"http://{HOST}:{new_port}"
    nginx_url = f"http://{HOST}:{nginx_port}"
    jwks_url = f"http://{HOST}:{jwks_port}{JWKS_PATH}"
    signing_key = SigningKey.generate()
    jwks = folder / "jwks" / JWKS_PATH.lstrip("/")
    jwks.parent.mkdir(parents=True)
    jwks.write_text(json.dumps(jwks_document([signing_key.public_jwk()])))
    processes = {
        "legacy": children.start(
            "legacy",
            [monolith, "serve", "--host", HOST, "--port", str(legacy_port)],
            monolith_env(legacy_db, jwt_secret, jwks_url),
        ),
        "new": children.start(
            "new",
            [monolith, "serve", "--host", HOST, "--port", str(new_port)],
            monolith_env(new_db, jwt_secret, jwks_url),
        ),
    }

    gateway_env = {
        k: v for k, v in os.environ.items() if not k.startswith(("MONOLITH_", "GATEWAY_"))
    }
    gateway_env.update(
        GATEWAY_HOST=HOST,
        GATEWAY_PORT=str(gateway_port),
        GATEWAY_ADMIN_PORT=str(admin_port),
        GATEWAY_LEGACY_URL=legacy_url,
        GATEWAY_BILLING_URL=new_url,
        GATEWAY_AUTH_URL=new_url,
        GATEWAY_NOTIFICATIONS_URL=new_url,
        GATEWAY_DATABASE_URL=f"sqlite+aiosqlite:///{folder / 'gateway.db'}",
        GATEWAY_ADMIN_TOKEN=admin_token,
    )
    if gateway_has_migrate(gateway, gateway_env):
        run_step([gateway, "migrate"], gateway_env)
        gateway_setup = "`strangler-gateway migrate`, then `serve`"
    else:
        gateway_setup = "`strangler-gateway serve` (creates its tables on start)"
    processes["gateway"] = children.start("gateway", [gateway, "serve"], gateway_env)
    edge_env = {
        **gateway_env,
        "GATEWAY_PORT": str(edge_port),
        "GATEWAY_ADMIN_PORT": str(edge_admin_port),
        "GATEWAY_AUTH_JWKS_URL": jwks_url,
        "GATEWAY_LEGACY_JWT_SECRET": jwt_secret,
    }
    processes["edge-gateway"] = children.start("edge-gateway", [gateway, "serve"], edge_env)
    processes["jwks"] = children.start(
        "jwks",
        [sys.executable, "-m", "http.server", "--bind", HOST, "--directory",
         str(folder / "jwks"), str(jwks_port)],
    )  # fmt: skip

    prefix = folder / "nginx"
    prefix.mkdir()
    conf = prefix / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(prefix=prefix, upstream=f"{HOST}:{legacy_port}",
                          listen=f"{HOST}:{nginx_port}")
    )  # fmt: skip
    processes["nginx"] = children.start(
        "nginx",
        [tools["nginx"], "-c", str(conf), "-p", str(prefix), "-e", str(prefix / "error.log"),
         "-g", "daemon off;"],
    )  # fmt: skip

    processes["bare"] = children.start(
        "bare", [sys.executable, "-c", BARE_STACK, str(bare_port), legacy_url]
    )

    print("waiting for two monoliths, nginx, two gateways, the bare stack and the JWKS ...",
          flush=True)  # fmt: skip
    gateway_url, edge_url = f"http://{HOST}:{gateway_port}", f"http://{HOST}:{edge_port}"
    bare_url = f"http://{HOST}:{bare_port}"
    wait_ready(f"{legacy_url}/health/ready", processes["legacy"], "legacy", children)
    wait_ready(f"{new_url}/health/ready", processes["new"], "new", children)
    wait_ready(f"{gateway_url}/health/ready", processes["gateway"], "gateway", children)
    wait_ready(f"{edge_url}/health/ready", processes["edge-gateway"], "edge-gateway", children)
    wait_ready(f"{nginx_url}/health/live", processes["nginx"], "nginx", children)
    wait_ready(jwks_url, processes["jwks"], "jwks", children)
    wait_ready(f"{bare_url}/health/ready", processes["bare"], "bare", children)
    return System(
        direct_url=legacy_url,
        nginx_url=nginx_url,
        gateway_url=gateway_url,
        admin_url=f"http://{HOST}:{admin_port}",
        admin_token=admin_token,
        nginx=processes["nginx"],
        gateway=processes["gateway"],
        legacy=processes["legacy"],
        new=processes["new"],
        gateway_setup=gateway_setup,
        edge_gateway_url=edge_url,
        edge_gateway=processes["edge-gateway"],
        bearer=registered_user_token(legacy_url, signing_key),
        bare_url=bare_url,
        bare=processes["bare"],
    )


def registered_user_token(monolith_url: str, key: SigningKey) -> str:
    """An auth access token (EdDSA, ``key``'s kid) for a user registered on ``monolith_url``."""
    email = f"bench-{os.urandom(6).hex()}@example.com"
    body = {"email": email, "password": "correct-horse-battery", "name": "Bench"}
    status, answer = http("POST", f"{monolith_url}/api/users", body=body)
    if status != 201:
        raise BenchFailed(f"registering the bench's user: {status} {answer[:500]!r}")
    user_id = json.loads(answer)["id"]
    return issue_access_token(key, user_id, email, ttl=timedelta(hours=1))


# ---------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class Scenario:
    name: str
    url: str
    proxy: subprocess.Popen[bytes] | None
    flag: Mapping[str, object] | None = None
    headers: tuple[str, ...] = ()
    connections: int | None = None
    """For the throughput pass, instead of --connections."""


@dataclass(frozen=True)
class Pass:
    """One wrk run and the CPU the proxy and the monoliths used meanwhile (seconds)."""

    load: Load
    proxy_cpu: float | None
    monolith_cpu: float

    @property
    def proxy_cpu_per_request(self) -> float | None:
        if self.proxy_cpu is None or not self.load.requests:
            return None
        return self.proxy_cpu / self.load.requests

    @property
    def monolith_cpu_per_request(self) -> float:
        return self.monolith_cpu / self.load.requests if self.load.requests else math.nan


@dataclass(frozen=True)
class Result:
    name: str
    loaded: Pass
    alone: Pass
    notes: tuple[str, ...]


def scenarios(system: System, path: str) -> list[Scenario]:
    gateway = system.gateway_url + path
    return [
        Scenario("direct", system.direct_url + path, None),
        Scenario("nginx", system.nginx_url + path, system.nginx),
        Scenario(BARE, system.bare_url + path, system.bare),
        Scenario("gateway-legacy", gateway, system.gateway, {"mode": "legacy"}),
        Scenario("gateway-canary-50", gateway, system.gateway, {"mode": "canary", "percent": 50}),
        Scenario("gateway-shadow", gateway, system.gateway, {"mode": "shadow"}),
        Scenario("gateway-legacy, again", gateway, system.gateway, {"mode": "legacy"}),
        *auth_at_edge(system),
    ]


EDGE_OFF = ("auth-at-edge, off", "auth-at-edge, off, again")
EDGE_ON = ("auth-at-edge, on", "auth-at-edge, on, again")


def auth_at_edge(system: System) -> list[Scenario]:
    """One user's authenticated read, through a gateway that does not verify at the edge and
    one that does, twice in turn (off, on, off, on): what the machine's other load does to one
    run it does to its neighbour too. The users route is on legacy, its flag untouched."""
    headers = (f"Authorization: Bearer {system.bearer}",)
    off, on = system.gateway_url + AUTHENTICATED_PATH, system.edge_gateway_url + AUTHENTICATED_PATH
    return [
        scenario
        for off_name, on_name in zip(EDGE_OFF, EDGE_ON, strict=True)
        for scenario in (
            Scenario(off_name, off, system.gateway, None, headers, EDGE_AUTH_CONNECTIONS),
            Scenario(on_name, on, system.edge_gateway, None, headers, EDGE_AUTH_CONNECTIONS),
        )
    ]


def measure(
    scenario: Scenario, system: System, wrk: Wrk, settings: Settings, children: Children
) -> Result:
    print(f"  {scenario.name} ...", flush=True)
    # The billing flag's figures; the auth-at-edge scenarios leave it alone (flag None).
    is_gateway = scenario.proxy is system.gateway and scenario.flag is not None
    is_shadow = scenario.flag is not None and scenario.flag["mode"] == "shadow"
    if scenario.flag is not None:
        system.set_flag(scenario.flag)

    def run_pass(connections: int, seconds: int) -> Pass:
        proxy_before = cpu_seconds(scenario.proxy.pid) if scenario.proxy else 0.0
        monolith_before = system.monolith_cpu()
        load = wrk.run(scenario.url, connections, seconds, scenario.headers)
        time.sleep(SETTLE_SECONDS)  # mirrors and comparisons still in flight finish
        proxy_cpu = cpu_seconds(scenario.proxy.pid) - proxy_before if scenario.proxy else None
        monolith_cpu = system.monolith_cpu() - monolith_before
        check(load, scenario, children)
        return Pass(load, proxy_cpu, monolith_cpu)

    connections = scenario.connections or settings.connections
    run_pass(connections, settings.warm_up_seconds)
    notes: list[str] = []
    served_before = system.served() if is_gateway else {}
    shadow_before = system.shadow_figures() if is_gateway else {}
    loaded = run_pass(connections, settings.seconds)
    shadow_loaded = system.shadow_figures() if is_gateway else {}
    if is_gateway:
        notes.append(_served_note(served_before, system.served()))
    if is_shadow:
        notes.append(_shadow_note(f"{connections} connections", shadow_before,
                                  shadow_loaded))  # fmt: skip
    alone = run_pass(LATENCY_CONNECTIONS, settings.seconds)
    if is_shadow:
        notes.append(_shadow_note("1 connection", shadow_loaded, system.shadow_figures()))
    if is_gateway and scenario.flag is not None:
        mode = system.flag()["mode"]
        if mode != scenario.flag["mode"]:
            notes.append(f"the flag was {mode!r} at the end (automatic rollback?)")
    return Result(scenario.name, loaded, alone, tuple(notes))


def check(load: Load, scenario: Scenario, children: Children) -> None:
    problems = []
    if load.requests == 0:
        problems.append("no request completed")
    if load.status_errors:
        problems.append(f"{load.status_errors} non-2xx/3xx answers")
    if load.socket_errors:
        problems.append(f"{load.socket_errors} socket errors")
    if problems:
        logs = "\n".join(f"  {name}:\n{children.tail(name, 10)}" for name in
                         ("gateway", "edge-gateway", "nginx", "legacy", "new"))  # fmt: skip
        raise BenchFailed(
            f"{scenario.name} ({load.connections} connections): {', '.join(problems)}\n{logs}"
        )


def _served_note(before: Mapping[str, float], after: Mapping[str, float]) -> str:
    by_side = {side: after.get(side, 0) - before.get(side, 0) for side in ("legacy", "new")}
    total = sum(by_side.values())
    share = by_side["new"] / total if total else 0.0
    return f"served by new: {share:.1%} of {total:.0f} (gateway /metrics)"


def _shadow_note(label: str, before: Mapping[str, int], after: Mapping[str, int]) -> str:
    delta = {key: after[key] - before.get(key, 0) for key in after}
    offered = delta.get("mirrored", 0) + delta.get("dropped", 0)
    dropped = delta.get("dropped", 0) / offered if offered else 0.0
    rest = ", ".join(f"{delta[key]} {key}" for key in SHADOW_COUNTERS[2:] if key in delta)
    return (
        f"mirrors, {label}: {delta.get('mirrored', 0)} sent, {delta.get('dropped', 0)} dropped "
        f"({dropped:.1%} of {offered}); {rest}"
    )


# ---------------------------------------------------------------- the report


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def us(seconds: float | None) -> str:
    return f"{seconds * 1e6:.0f}" if seconds is not None else "-"


def print_report(results: Sequence[Result], settings: Settings, notes: Mapping[str, str]) -> None:
    by_name = {result.name: result for result in results}
    direct, nginx = by_name["direct"], by_name["nginx"]
    heading = (f"{'scenario':<23}{'req/s':>7}{'÷ nginx':>9}{'p50 ms':>9}{'p99 ms':>9}"
               f"{'proxy CPU':>11}{'÷ nginx':>9}{'monoliths':>11}")  # fmt: skip
    units = f"{'':<57}{'µs/req':>11}{'':>9}{'CPU µs/req':>11}"
    print()
    print(f"Throughput: GET {settings.path}, {settings.connections} connections as fast as "
          f"they go, {settings.seconds} s per scenario")  # fmt: skip
    print(heading, units, "-" * len(heading), sep="\n")
    for r in results:
        run, base = r.loaded, nginx.loaded
        print(
            f"{r.name:<23}{run.load.rate:>7.0f}{ratio(run.load.rate, base.load.rate):>9}"
            f"{ms(run.load.p50):>9}{ms(run.load.p99):>9}{us(run.proxy_cpu_per_request):>11}"
            f"{ratio(run.proxy_cpu_per_request, base.proxy_cpu_per_request):>9}"
            f"{us(run.monolith_cpu_per_request):>11}"
        )
    print()
    print(f"Latency: the same, {LATENCY_CONNECTIONS} connection (one request at a time), "
          f"{settings.seconds} s per scenario")  # fmt: skip
    heading = (f"{'scenario':<23}{'req/s':>7}{'p50 ms':>9}{'p99 ms':>9}{'+p50 ms':>9}"
               f"{'+p50 ms':>9}{'proxy CPU':>11}{'÷ nginx':>9}")  # fmt: skip
    units = f"{'':<48}{'vs direct':>9}{'vs nginx':>9}{'µs/req':>11}"
    print(heading, units, "-" * len(heading), sep="\n")
    for r in results:
        run, base = r.alone, nginx.alone
        print(
            f"{r.name:<23}{run.load.rate:>7.0f}{ms(run.load.p50):>9}{ms(run.load.p99):>9}"
            f"{ms(run.load.p50 - direct.alone.load.p50):>9}"
            f"{ms(run.load.p50 - base.load.p50):>9}{us(run.proxy_cpu_per_request):>11}"
            f"{ratio(run.proxy_cpu_per_request, base.proxy_cpu_per_request):>9}"
        )
    print()
    for r in results:
        for note in r.notes:
            print(f"{r.name}: {note}")
    print()
    print_targets(by_name)
    print()
    print_edge_auth_target(by_name)
    print()
    print_notes(notes)


def print_targets(by_name: Mapping[str, Result]) -> None:
    """The issue's targets, each against the baseline measured in this run."""
    direct, nginx = by_name["direct"], by_name["nginx"]
    legacy, again = by_name["gateway-legacy"], by_name["gateway-legacy, again"]
    shadow = by_name["gateway-shadow"]
    rate_ratio = legacy.loaded.load.rate / nginx.loaded.load.rate
    legacy_cpu = legacy.loaded.proxy_cpu_per_request
    nginx_cpu = nginx.loaded.proxy_cpu_per_request
    cpu_ratio = legacy_cpu / nginx_cpu if legacy_cpu is not None and nginx_cpu else math.inf
    added_ms = (legacy.alone.load.p50 - direct.alone.load.p50) * 1000
    legacy_p50s = (legacy.alone.load.p50 * 1000, again.alone.load.p50 * 1000)
    shadow_limit = max(legacy_p50s) * (1 + NOISE_ALLOWANCE)
    shadow_ms = shadow.alone.load.p50 * 1000
    rows = [
        ("gateway-legacy req/s ÷ nginx req/s", f"{rate_ratio:.2f}",
         f">= {TARGETS['throughput']:g}", rate_ratio >= TARGETS["throughput"]),
        ("proxy CPU/req, gateway-legacy ÷ nginx", f"{cpu_ratio:.2f}",
         f"<= {TARGETS['cpu']:g}", cpu_ratio <= TARGETS["cpu"]),
        ("added p50, gateway-legacy - direct", f"{added_ms:.2f} ms",
         f"<= {TARGETS['added_p50_ms']:g} ms", added_ms <= TARGETS["added_p50_ms"]),
        ("shadow p50 (primary's)", f"{shadow_ms:.2f} ms",
         f"<= {shadow_limit:.2f} ms", shadow_ms <= shadow_limit),
    ]  # fmt: skip
    print_table(
        [Column("target (issue 12.3)", 40, left=True), Column("measured", 12), Column("target", 14),
         Column("met", 6)],
        [(label, measured, target, verdict(met)) for label, measured, target, met in rows],
    )  # fmt: skip
    print_bound(by_name, cpu_ratio)
    spread = abs(legacy_p50s[0] - legacy_p50s[1])
    rate_spread = abs(legacy.loaded.load.rate - again.loaded.load.rate) / legacy.loaded.load.rate
    nginx_added = (nginx.alone.load.p50 - direct.alone.load.p50) * 1000
    print(
        "Rates and CPU: the throughput pass. Latencies: the 1-connection pass.\n"
        f"Shadow limit: the larger p50 of the two gateway-legacy runs + {NOISE_ALLOWANCE:.0%}.\n"
        f"Noise: the two gateway-legacy runs differ by {spread:.2f} ms in p50 and "
        f"{rate_spread:.0%} in req/s.\n"
        f"For scale: nginx itself adds {nginx_added:.2f} ms to the direct p50."
    )


def print_bound(by_name: Mapping[str, Result], cpu_ratio: float) -> None:
    """What bounds the CPU target: the bare stack's share of nginx's budget, same run."""
    nginx, bare = by_name["nginx"].loaded, by_name[BARE].loaded
    runs = [by_name["gateway-legacy"].loaded, by_name["gateway-legacy, again"].loaded]
    nginx_cpu, bare_cpu = nginx.proxy_cpu_per_request, bare.proxy_cpu_per_request
    legacy_cpu = _cpu_per_request(runs)
    if nginx_cpu is None or bare_cpu is None or legacy_cpu is None or not nginx_cpu:
        return
    budget = TARGETS["cpu"] * nginx_cpu
    print(
        f"Bound: the bare stack (uvicorn and the gateway's client, no gateway logic) costs "
        f"{bare_cpu * 1e6:.0f} µs/req, {bare_cpu / nginx_cpu:.2f}x nginx's "
        f"{nginx_cpu * 1e6:.0f} µs: {bare_cpu / budget:.0%} of the {TARGETS['cpu']:g}x budget "
        f"({budget * 1e6:.0f} µs).\nThe gateway's logic on top (both gateway-legacy runs "
        f"- bare stack): {(legacy_cpu - bare_cpu) * 1e6:.0f} µs/req"
        + (
            f"; the budget leaves it {(budget - bare_cpu) * 1e6:.0f} µs."
            if cpu_ratio > TARGETS["cpu"]
            else "."
        )
    )


def print_edge_auth_target(by_name: Mapping[str, Result]) -> None:
    """Issue 13.4: the gateway's CPU per request verifying at the edge ÷ not verifying."""
    off = [by_name[name] for name in EDGE_OFF]
    on = [by_name[name] for name in EDGE_ON]
    rows = []
    passes = (
        (f"{EDGE_AUTH_CONNECTIONS} connections", [r.loaded for r in off], [r.loaded for r in on]),
        ("1 connection", [r.alone for r in off], [r.alone for r in on]),
    )
    for label, off_passes, on_passes in passes:
        off_cpu, on_cpu = _cpu_per_request(off_passes), _cpu_per_request(on_passes)
        cpu_ratio = on_cpu / off_cpu if on_cpu is not None and off_cpu else math.inf
        rows.append((
            f"gateway CPU/req, verifying ÷ not, {label}", f"{us(off_cpu)} µs",
            f"{us(on_cpu)} µs", f"{cpu_ratio:.2f}", f"<= {EDGE_AUTH_CPU_TARGET:g}",
            verdict(cpu_ratio <= EDGE_AUTH_CPU_TARGET),
        ))  # fmt: skip
    print_table(
        [Column("target (issue 13.4)", 50, left=True), Column("off", 10), Column("on", 10),
         Column("ratio", 7), Column("target", 9), Column("met", 6)],
        rows,
    )  # fmt: skip
    print(
        f"auth-at-edge: GET {AUTHENTICATED_PATH} with one user's EdDSA token, on legacy; "
        "the monolith verifies it in both. Off and on ran twice in turn; CPU/req is both runs' "
        f"CPU over both runs' requests. The {EDGE_AUTH_CONNECTIONS}-connection row is the "
        "target; each pair's own ratio: "
        + ", ".join(
            ratio(b.loaded.proxy_cpu_per_request, a.loaded.proxy_cpu_per_request)
            for a, b in zip(off, on, strict=True)
        )
        + "."
    )


def _cpu_per_request(passes: Sequence[Pass]) -> float | None:
    cpu = [p.proxy_cpu for p in passes]
    requests = sum(p.load.requests for p in passes)
    if any(c is None for c in cpu) or not requests:
        return None
    return sum(c for c in cpu if c is not None) / requests


def machine_notes(
    system: System, wrk: Wrk, tools: Mapping[str, str], load_before: str
) -> dict[str, str]:
    nginx = subprocess.run(
        [tools["nginx"], "-v"], capture_output=True, text=True, timeout=10, check=False
    )
    nginx_version = nginx.stderr.strip().removeprefix("nginx version: ")
    return {
        **machine_note(load_before),
        "nginx": (
            f"{nginx_version}, 1 worker process (the gateway is one process too), upstream "
            "keepalive 64, access log to a file"
        ),
        "gateway": (
            f"uvicorn on uvloop, one write per answer, no timer per request, its own keep-alive "
            f"HTTP/1.1 client to the monoliths, start-up heap frozen (gc.freeze), no access log "
            f"(request ids and /metrics instead); set up by {system.gateway_setup}"
        ),
        "load": f"{wrk.version()}, 1 thread, on the same machine",
        "canary": "wrk sends no cookie, so each request gets a fresh one: the split is per request",
        "cpu": (
            f"utime + stime from /proc/<pid>/stat ({CLOCK_TICKS}/s), nginx = master + worker; "
            "monoliths = legacy + new"
        ),
    }


# ---------------------------------------------------------------- running it


def run(settings: Settings, folder: Path, children: Children) -> None:
    tools = ensure_commands(["nginx", "wrk"])
    load_before = load_average()
    system = start_system(folder, tools, children)
    wrk = Wrk(tools["wrk"], folder)
    print(f"measuring {settings.path}: warm-up {settings.warm_up_seconds} s, then "
          f"{settings.connections} connections and 1 connection, {settings.seconds} s each",
          flush=True)  # fmt: skip
    results = [
        measure(s, system, wrk, settings, children) for s in scenarios(system, settings.path)
    ]
    print_report(results, settings, machine_notes(system, wrk, tools, load_before))


def parse_arguments(argv: Sequence[str] | None = None) -> Settings:
    parser = bench_arguments(__doc__, timeout=900.0)
    parser.add_argument("--seconds", type=int, default=8, help="seconds per pass (wrk -d)")
    parser.add_argument("--connections", type=int, default=32, help="for the throughput pass")
    parser.add_argument("--path", default=DEFAULT_PATH, help="a GET under /api/billing")
    arguments = parser.parse_args(argv)
    seconds = 2 if arguments.quick else arguments.seconds
    if seconds < 1 or arguments.connections < 1 or arguments.timeout <= 0:
        parser.error("--seconds and --connections must be at least 1, --timeout positive")
    if not arguments.path.startswith("/api/billing"):
        parser.error("--path must be under /api/billing, the route whose flag is switched")
    return Settings(
        seconds=seconds,
        warm_up_seconds=1 if arguments.quick else 2,
        connections=arguments.connections,
        path=arguments.path,
        timeout=arguments.timeout,
    )


def main() -> int:
    settings = parse_arguments()
    return run_bench(
        lambda folder, children: run(settings, folder, children), settings.timeout, name="gateway"
    )


if __name__ == "__main__":
    sys.exit(main())
