"""Does the system stay flat under steady traffic? Memory, descriptors, connections, p99.

    .venv/bin/python bench/soak.py [--minutes N] [--rate R] [--quick]

One run starts `strangler up` on free 127.0.0.1 ports with a new, empty state folder, then
drives steady, bounded traffic through the gateway for N minutes (10; `--quick`, a smoke
run: 24 s, sampled every 4 s instead of every minute, its verdicts printed, not made its
exit status): R customer journeys a second (2). In a journey a customer reads the plans,
subscribes, pays the first invoice, reads their subscriptions and invoices, and cancels — so
the writes also send events through the outboxes to billing and back. The 12 customers the
journeys reuse sign up first, one after the other, untimed; one journey in twenty signs up a
new customer, one in twenty logs in again (each password hash or check costs the monolith
about half a second of CPU on a busy 2-core machine, on its event loop: more of them would
measure only that). At most `--in-flight` journeys run at once; a journey that would start
beyond that is skipped and counted, so a slow system gets less traffic instead of an ever
longer queue. Billing's routes are on `new`: the monolith answers sign-ups and log-ins, the
billing service everything billing, and the two-way sync carries every change to the other
side (a 50 % canary would add the sides' races — a cancel reaching the side that has not
heard of the subscription yet — to the errors), and stay there: the gateway's automatic
rollback is out of reach (a loaded machine's p99 would otherwise send billing back to legacy
halfway, and the second half would measure another system).

At the end of every interval it prints, per component (its process tree, as the runner
started it): RSS — its floor over the interval, read 10 times, and its peak (a leak raises
the floor; an argon2 password hash takes 64 MiB for a moment, the peak) —, open descriptors
by kind, each beside the bound of the pool it belongs to (`descriptor_kinds`: `←gateway`,
a connection the gateway made to it; `→broker`, one it made; `listen`, `unix`, `sqlite
billing.db`, `file`, `pipe`, `anon`…; `Bounds` says which pool bounds which kind, from the
settings' defaults); and for the traffic: requests, errors (by cause), p50 and p99 latency.
It ends with a verdict per component (the broker's RSS excepted: it keeps its log in memory,
so it grows with every event by design):

- **RSS flat after warm-up**: the floor of the last interval at most 10 % + 8 MiB above the
  floor of the warm-up interval (imports, pools, caches filled by the first requests);
- **no fd leak**: from warm-up on, no pool holds more than its bound (a burst may fill a
  pool, and a steady trickle keep it full: the gateway hands out its idle connections in
  turn), and no kind without a pool keeps climbing — its floor rising from each third of
  the run after warm-up to the next, by more than 1 in all (a leak goes on growing; a
  one-off step does not: each Kafka client opens one more connection at its first metadata
  refresh, 5 minutes after it started, and reuses it afterwards). The table gives the
  ceiling: every pool the component used at its bound, plus the rest;
- **p99 not drifting**: the p99 of the last interval at most 1.5 times that of the first
  interval after warm-up, + 20 ms.

Run it on a quiet machine: on a loaded one p99 moves with the neighbours, not with the code.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from harness import (
    HOST,
    BenchFailed,
    Children,
    Column,
    bench_arguments,
    console_script,
    load_average,
    machine_note,
    print_notes,
    print_table,
    ratio,
    run_bench,
    verdict,
)
from local_processes import ChildProcess, process_tree, resident_bytes
from startup import HEALTHY_TIMEOUT_SECONDS, read_run_record, runner_env
from strangler_gateway.settings import GatewaySettings
from strangler_persistence import POOL_OVERFLOW, POOL_SIZE

MIB = 1024 * 1024
POLL_SECONDS = 0.1
REQUEST_TIMEOUT_SECONDS = 10.0
PASSWORD = "correct-horse-battery"
GOOD_CARD = "4242424242424242"
RSS_SLACK = (1.10, 8.0)
FD_SLACK = 1
HTTPX_POOL = 100
GATEWAY_UPSTREAMS = ("legacy-monolith", "billing", "auth", "notifications")
P99_SLACK = (1.5, 20.0)
CUSTOMER_POOL = 12
NEW_CUSTOMER_SHARE = 0.05
LOGIN_SHARE = 0.05
READINGS_PER_INTERVAL = 10
UNKNOWN_CUSTOMER_RETRIES = 50
UNKNOWN_CUSTOMER_PAUSE_SECONDS = 0.2
LOG_IN_MEMORY = "broker"
KEEP_BILLING_ON_NEW = {
    "GATEWAY_ROLLBACK_MAX_P99_SECONDS": "3600",
    "GATEWAY_ROLLBACK_MAX_ERROR_RATE": "1",
}
"""The gateway's automatic rollback out of reach: on a busy machine billing's p99 passes 2 s,
and a rollback to legacy halfway would change the system measured; an error is counted."""


# ---------------------------------------------------------------- descriptors, by kind

_TCP_LISTEN = "0A"
_TCP_ESTABLISHED = "01"
_TCP_STATES = {"02": "syn-sent", "03": "syn-recv", "04": "fin-wait1", "05": "fin-wait2",
               "06": "time-wait", "07": "close", "08": "close-wait", "09": "last-ack",
               "0B": "closing"}  # fmt: skip
_SQLITE_SUFFIXES = ("-wal", "-shm", "-journal")
_SQLITE = "sqlite "
_KIND_ORDER = ("listen", "←", "→", "unix", "socket", "sqlite", "file", "pipe", "anon", "other")


@dataclass(frozen=True)
class _TcpSocket:
    state: str
    local_port: int
    remote_port: int


def _tcp_sockets() -> dict[str, _TcpSocket]:
    """Every TCP socket of this network namespace, by inode (/proc/net/tcp and tcp6)."""
    found: dict[str, _TcpSocket] = {}
    for table in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
            found[inode] = _TcpSocket(
                state, int(local.rsplit(":", 1)[1], 16), int(remote.rsplit(":", 1)[1], 16)
            )
    return found


def _unix_sockets() -> set[str]:
    try:
        lines = Path("/proc/net/unix").read_text().splitlines()[1:]
    except OSError:
        return set()
    return {fields[6] for fields in map(str.split, lines) if len(fields) > 6}


def _links(tree: Sequence[int]) -> list[str]:
    """What each open descriptor of the processes in ``tree`` points at."""
    links: list[str] = []
    for member in tree:
        folder = Path(f"/proc/{member}/fd")
        try:
            names = os.listdir(folder)
        except OSError:  # ended meanwhile
            continue
        for name in names:
            with contextlib.suppress(OSError):
                links.append(os.readlink(folder / name))
    return links


def _socket_inode(link: str) -> str | None:
    return link[8:-1] if link.startswith("socket:[") else None


def descriptor_kinds(trees: Mapping[str, Sequence[int]]) -> dict[str, Counter[str]]:
    """Each component's open descriptors (its process tree's) counted by kind.

    Sockets: `listen`; a TCP connection accepted on its own port, `←<client>`, or made to
    another's, `→<server>`, each end named by the component holding it (`←outside`: the
    bench or the runner; `→:5432`: a port no component listens on), its state added when
    not established (`→billing close-wait`: closed by the peer, not yet by us — a leak's
    mark); `unix`; `socket` (any other). Files: `sqlite billing.db` (the database, its WAL
    and shared memory), `file`; then `pipe`, `anon` (eventfd, epoll, timerfd…), `other`.
    """
    tcp, unix = _tcp_sockets(), _unix_sockets()
    links = {name: _links(tree) for name, tree in trees.items()}
    server_of: dict[int, str] = {}
    client_of: dict[int, str] = {}
    for name, targets in links.items():
        for target in targets:
            sock = tcp.get(_socket_inode(target) or "")
            if sock is not None:
                owners = server_of if sock.state == _TCP_LISTEN else client_of
                owners[sock.local_port] = name

    def kind(name: str, target: str) -> str:
        inode = _socket_inode(target)
        if inode is None:
            if target.startswith("/"):
                return _database(target)
            for prefix, label in (("pipe:", "pipe"), ("anon_inode:", "anon")):
                if target.startswith(prefix):
                    return label
            return "other"
        sock = tcp.get(inode)
        if sock is None:
            return "unix" if inode in unix else "socket"
        if sock.state == _TCP_LISTEN:
            return "listen"
        if server_of.get(sock.local_port) == name:
            peer = f"←{client_of.get(sock.remote_port, 'outside')}"
        else:
            peer = f"→{server_of.get(sock.remote_port, f':{sock.remote_port}')}"
        state = "" if sock.state == _TCP_ESTABLISHED else f" {_TCP_STATES.get(sock.state, '?')}"
        return peer + state

    return {name: Counter(kind(name, t) for t in targets) for name, targets in links.items()}


def _database(path: str) -> str:
    """`sqlite billing.db` for the database, its WAL, shared memory or journal; else `file`."""
    name = path.rsplit("/", 1)[-1]
    for suffix in _SQLITE_SUFFIXES:
        name = name.removesuffix(suffix)
    return f"{_SQLITE}{name}" if name.endswith((".db", ".sqlite")) else "file"


def _kind_rank(kind: str) -> tuple[int, str]:
    return next((i for i, p in enumerate(_KIND_ORDER) if kind.startswith(p)), 99), kind


# ---------------------------------------------------------------- what bounds them


@dataclass(frozen=True)
class Bound:
    """The most descriptors of one kind a component may hold, and what sets that."""

    count: int
    set_by: str


class Bounds:
    """Every pool of the system as `strangler up` runs it, and what bounds it.

    A connection pool bounds both its ends: the client's `→server` and the server's
    `←client`; two pools between the same two components add up. The gateway holds at most
    GATEWAY_UPSTREAM_CONNECTIONS to each upstream; billing and the monolith call the payment
    simulator, billing the monolith (backfill), and the gateway, billing and the monolith
    fetch auth's signing keys (JWKS), each through one httpx client (its default pool: 100);
    this bench's own client holds twice `--in-flight` to the gateway. Every database but the
    payment simulator's is behind an engine pool (strangler_persistence.create_engine): a
    SQLite connection holds the database and its WAL open, the process one shared-memory
    file, so a pool of n connections holds at most 2n + 1 descriptors. The rest (Kafka
    clients, listeners, the loop's own descriptors) have no pool: they must stop growing.
    """

    UNPOOLED_DATABASES = frozenset({"payment-simulator.db"})

    def __init__(self, bench_connections: int) -> None:
        gateway = GatewaySettings.model_fields["upstream_connections"].default
        assert isinstance(gateway, int)
        self._upstreams = Bound(gateway, "GATEWAY_UPSTREAM_CONNECTIONS")
        self._pairs: dict[tuple[str, str], list[Bound]] = {
            ("outside", "gateway"): [Bound(bench_connections, "this bench's client pool")]
        }
        for client, server, purpose in (
            ("billing", "payment-simulator", "payments"),
            ("legacy-monolith", "payment-simulator", "payments"),
            ("billing", "legacy-monolith", "backfill"),
            ("gateway", "auth", "JWKS"),
            ("billing", "auth", "JWKS"),
            ("legacy-monolith", "auth", "JWKS"),
        ):
            pool = Bound(HTTPX_POOL, f"httpx's default pool ({purpose})")
            self._pairs.setdefault((client, server), []).append(pool)
        connections = POOL_SIZE + POOL_OVERFLOW
        self._engine = Bound(2 * connections + 1, f"engine pool {POOL_SIZE}+{POOL_OVERFLOW}")

    def of(self, component: str, kind: str) -> Bound | None:
        if kind.startswith(_SQLITE):
            unpooled = kind.removeprefix(_SQLITE) in self.UNPOOLED_DATABASES
            return None if unpooled else self._engine
        if " " in kind:  # not established: no pool keeps it
            return None
        if kind.startswith("→"):
            client, server = component, kind[1:]
        elif kind.startswith("←"):
            client, server = kind[1:], component
        else:
            return None
        pools = list(self._pairs.get((client, server), []))
        if client == "gateway" and server in GATEWAY_UPSTREAMS:
            pools.append(self._upstreams)
        if not pools:
            return None
        return Bound(sum(p.count for p in pools), " + ".join(p.set_by for p in pools))


# ---------------------------------------------------------------- one component, one interval


@dataclass(frozen=True)
class Reading:
    rss_mib: float
    kinds: Counter[str]


@dataclass(frozen=True)
class Footprint:
    """One component over one interval: RSS floor and peak; descriptors by kind, each as
    last read, its floor and its peak over the interval (a leak raises the floor; a
    connection opened for a moment, only the peak)."""

    rss_mib: float
    peak_mib: float
    last: Counter[str]
    floor: Counter[str]
    peak: Counter[str]

    @staticmethod
    def over(readings: Sequence[Reading]) -> Footprint:
        kinds = {kind for reading in readings for kind in reading.kinds}
        return Footprint(
            min(r.rss_mib for r in readings),
            max(r.rss_mib for r in readings),
            readings[-1].kinds,
            Counter({k: min(r.kinds[k] for r in readings) for k in kinds}),
            Counter({k: max(r.kinds[k] for r in readings) for k in kinds}),
        )

    @property
    def fds(self) -> int:
        return sum(self.last.values())


def read_all(pids: Mapping[str, int]) -> dict[str, Reading]:
    trees = {name: process_tree(pid) for name, pid in pids.items()}
    kinds = descriptor_kinds(trees)
    return {name: Reading(resident_bytes(tree) / MIB, kinds[name]) for name, tree in trees.items()}


@dataclass
class Traffic:
    """What the journeys of one interval saw."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    causes: Counter[str] = field(default_factory=Counter)
    skipped: int = 0
    journeys: int = 0

    def percentile(self, fraction: float) -> float | None:
        if len(self.latencies) < 2:
            return None
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[
            round(fraction * 100) - 1
        ]


@dataclass
class Sample:
    minute: float
    components: dict[str, Footprint]
    traffic: Traffic


class Journeys:
    """New customers at a steady rate, each going through the documented happy path."""

    def __init__(self, client: httpx.AsyncClient, in_flight: int) -> None:
        self.client = client
        self.current = Traffic()
        self._customers: list[_Customer] = []
        self._slots = asyncio.Semaphore(in_flight)
        self._tasks: set[asyncio.Task[None]] = set()

    def interval_done(self) -> Traffic:
        finished, self.current = self.current, Traffic()
        return finished

    def start_one(self) -> None:
        if self._slots.locked():
            self.current.skipped += 1
            return
        task = asyncio.create_task(self._journey())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, within: float) -> None:
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=within)

    async def _journey(self) -> None:
        async with self._slots:
            self.current.journeys += 1
            try:
                await self._go()
            except (httpx.HTTPError, _Refused, KeyError, ValueError) as failure:
                self.current.errors += 1
                self.current.causes[str(failure) or type(failure).__name__] += 1

    async def _request(
        self, method: str, path: str, expected: int, **kwargs: object
    ) -> httpx.Response:
        traffic = self.current
        began = time.perf_counter()
        try:
            response = await self.client.request(method, path, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as failure:
            raise _Refused(f"{method} {_template(path)}: {type(failure).__name__}") from None
        finally:
            traffic.latencies.append((time.perf_counter() - began) * 1000)
        if response.status_code != expected:
            raise _Refused(
                f"{method} {_template(path)}: {response.status_code} {_problem(response)}"
            )
        return response

    async def sign_up_the_pool(self, size: int) -> None:
        """The customers the journeys reuse, one after the other, before anything is timed."""
        for _ in range(size):
            self._customers.append(await self._sign_up())
        self.current = Traffic()

    async def _go(self) -> None:
        if random.random() < NEW_CUSTOMER_SHARE:
            customer = await self._sign_up()
        else:
            customer = random.choice(self._customers)
        auth = await self._log_in(customer) if random.random() < LOGIN_SHARE else customer.auth
        async with customer.turn:  # one subscription of a customer at a time
            await self._subscribe_pay_and_cancel(auth)

    async def _sign_up(self) -> _Customer:
        email = f"soak-{uuid.uuid4().hex[:12]}@example.com"
        body = {"email": email, "password": PASSWORD, "name": "Soak Test"}
        await self._request("POST", "/api/users", 201, json=body)
        customer = _Customer(email, {})
        customer.auth.update(await self._log_in(customer))
        return customer

    async def _log_in(self, customer: _Customer) -> dict[str, str]:
        login = {"email": customer.email, "password": PASSWORD}
        answer = await self._request("POST", "/api/auth/login", 200, json=login)
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    async def _subscribe_pay_and_cancel(self, auth: dict[str, str]) -> None:
        await self._request("GET", "/api/billing/plans", 200, headers=auth)
        created = (await self._subscribe(auth)).json()
        cancel = f"/api/billing/subscriptions/{created['subscription']['id']}/cancel"
        try:
            await self._request(
                "POST",
                f"/api/billing/invoices/{created['invoice']['id']}/pay",
                201,
                json={"card_number": GOOD_CARD},
                headers={**auth, "Idempotency-Key": uuid.uuid4().hex},
            )
            await self._request("GET", "/api/billing/subscriptions", 200, headers=auth)
            await self._request("GET", "/api/billing/invoices", 200, headers=auth)
            await self._request("POST", cancel, 200, headers=auth)
        except (httpx.HTTPError, _Refused):
            await self._cancel_quietly(cancel, auth)
            raise

    async def _cancel_quietly(self, cancel: str, auth: dict[str, str]) -> None:
        """Cancel, untimed and whatever the answer, after a failed journey: a customer left
        subscribed would fail every later journey with 409 already-subscribed."""
        with contextlib.suppress(httpx.HTTPError):
            await self.client.post(cancel, headers=auth)

    async def _subscribe(self, auth: dict[str, str]) -> httpx.Response:
        """Billing knows a new customer once their registration event has arrived: until then
        it answers 409 customer-unknown."""
        for _ in range(UNKNOWN_CUSTOMER_RETRIES):
            try:
                return await self._request(
                    "POST", "/api/billing/subscriptions", 201, json={"plan_id": "pro"},
                    headers=auth,
                )  # fmt: skip
            except _Refused as refused:
                if "customer-unknown" not in str(refused):
                    raise
            await asyncio.sleep(UNKNOWN_CUSTOMER_PAUSE_SECONDS)
        raise _Refused("POST /api/billing/subscriptions: the registration never arrived")


@dataclass
class _Customer:
    email: str
    auth: dict[str, str]
    turn: asyncio.Lock = field(default_factory=asyncio.Lock)


class _Refused(Exception):
    pass


def _problem(response: httpx.Response) -> str:
    """The last part of a problem document's type: `customer-unknown`."""
    try:
        kind = response.json().get("type", "")
    except ValueError:
        return ""
    return str(kind).rsplit("/", 1)[-1]


def _template(path: str) -> str:
    return "/".join("{id}" if len(part) >= 32 else part for part in path.split("/"))


def wait_until_running(
    state_dir: Path, runner: ChildProcess | subprocess.Popen[bytes], children: Children, name: str
) -> Mapping[str, int]:
    """The pid of every component once the runner says they are all healthy."""
    started = time.perf_counter()
    while True:
        record = read_run_record(state_dir)
        if record is not None and record.get("phase") == "running":
            components = record.get("components")
            assert isinstance(components, list)
            return {str(c["name"]): int(c["pid"]) for c in components}
        process = runner if isinstance(runner, subprocess.Popen) else runner.process
        if process.poll() is not None:
            raise BenchFailed(f"`strangler up` exited:\n{children.tail(name)}")
        if time.perf_counter() - started > HEALTHY_TIMEOUT_SECONDS:
            raise BenchFailed(f"not healthy after {HEALTHY_TIMEOUT_SECONDS:g} s")
        time.sleep(POLL_SECONDS)


async def drive(
    gateway: str,
    pids: Mapping[str, int],
    *,
    minutes: float,
    interval_seconds: float,
    rate: float,
    in_flight: int,
    bounds: Bounds,
) -> list[Sample]:
    first = read_all(pids)
    samples = [Sample(0.0, {n: Footprint.over([r]) for n, r in first.items()}, Traffic())]
    print_sample(samples[0], bounds)
    limits = httpx.Limits(
        max_connections=_bench_connections(in_flight), max_keepalive_connections=in_flight
    )
    async with httpx.AsyncClient(
        base_url=gateway, timeout=REQUEST_TIMEOUT_SECONDS, limits=limits
    ) as client:
        journeys = Journeys(client, in_flight)
        await journeys.sign_up_the_pool(CUSTOMER_POOL)
        print(f"{CUSTOMER_POOL} customers signed up; traffic starts", flush=True)
        loop = asyncio.get_running_loop()
        began = loop.time()
        ends = began + minutes * 60
        intervals = round(minutes * 60 / interval_seconds)
        next_sample = began + interval_seconds
        read_every = interval_seconds / READINGS_PER_INTERVAL
        next_reading = began + read_every
        next_journey = began
        readings: dict[str, list[Reading]] = {name: [] for name in pids}
        while len(samples) <= intervals:  # the last one ends with the traffic
            now = loop.time()
            if now >= next_journey:
                journeys.start_one()
                next_journey += 1 / rate
                if next_journey >= ends:
                    next_journey = math.inf
            if now >= next_reading or now >= next_sample:
                for name, reading in (await asyncio.to_thread(read_all, pids)).items():
                    readings[name].append(reading)
                next_reading += read_every
            if now >= next_sample:
                sample = Sample(
                    (now - began) / 60,
                    {n: Footprint.over(readings[n]) for n in pids},
                    journeys.interval_done(),
                )
                readings = {name: [] for name in pids}
                samples.append(sample)
                print_sample(sample, bounds)
                next_sample += interval_seconds
            wake = min(next_journey, next_sample, next_reading)
            await asyncio.sleep(max(0.0, wake - loop.time()))
        await journeys.drain(REQUEST_TIMEOUT_SECONDS * 8)
    return samples


def _bench_connections(in_flight: int) -> int:
    return 2 * in_flight


def _kinds_line(name: str, figures: Footprint, bounds: Bounds) -> str:
    """`←gateway 6 (peak 9, ≤32)  →broker 4  …`: as last read, the peak when higher, the bound."""
    parts = []
    for kind in sorted(figures.peak, key=_kind_rank):
        notes = []
        if figures.peak[kind] != figures.last[kind]:
            notes.append(f"peak {figures.peak[kind]}")
        if (bound := bounds.of(name, kind)) is not None:
            notes.append(f"≤{bound.count}")
        parts.append(f"{kind} {figures.last[kind]}" + (f" ({', '.join(notes)})" if notes else ""))
    return "  ".join(parts)


def print_sample(sample: Sample, bounds: Bounds) -> None:
    traffic = sample.traffic
    p50, p99 = traffic.percentile(0.50), traffic.percentile(0.99)
    latency = "" if p99 is None or p50 is None else f", p50 {p50:.0f} ms, p99 {p99:.0f} ms"
    print(
        f"minute {sample.minute:4.1f}: {traffic.journeys} journeys, "
        f"{len(traffic.latencies)} requests, {traffic.errors} errors, "
        f"{traffic.skipped} skipped{latency}",
        flush=True,
    )
    for cause, count in traffic.causes.most_common(3):
        print(f"    failed: {cause} ({count})")
    for name, figures in sample.components.items():
        print(
            f"    {name:<18} RSS {figures.rss_mib:7.1f} MiB (peak {figures.peak_mib:6.1f})  "
            f"fds {figures.fds:4d} (peak {sum(figures.peak.values()):4d})\n"
            f"    {'':<18} {_kinds_line(name, figures, bounds)}",
            flush=True,
        )


@dataclass(frozen=True)
class DescriptorVerdict:
    """Whether a component's descriptors leak, judged on the intervals from warm-up on.

    A kind with a known bound (a pool) may grow up to it — a burst fills a pool, and a
    steady trickle keeps it full —, never past it. A kind without one must not keep
    climbing: its lowest floor rising from each third of the intervals to the next, by more
    than ``FD_SLACK`` in all, is a leak (one goes on growing); a one-off step is not (each
    Kafka client opens one more connection at its first metadata refresh, aiokafka's
    ``metadata_max_age_ms`` = 5 min after it started, and reuses it from then on). The
    ceiling: every pool it used at its bound, plus the highest floor of the rest.
    """

    no_leak: bool
    findings: list[str]
    pooled: int
    fixed: int

    @staticmethod
    def judge(name: str, intervals: Sequence[Footprint], bounds: Bounds) -> DescriptorVerdict:
        n = len(intervals)
        findings: list[str] = []
        fixed = pooled = 0
        for kind in sorted({k for i in intervals for k in i.peak}, key=_kind_rank):
            peak = max(i.peak[kind] for i in intervals)
            bound = bounds.of(name, kind)
            if bound is not None:
                pooled += bound.count
                if peak > bound.count:
                    findings.append(f"{kind} {peak} > {bound.count} ({bound.set_by})")
                continue
            fixed += max(i.floor[kind] for i in intervals)
            floors = [i.floor[kind] for i in intervals]
            lows = [min(third) for third in (floors[: n // 3], floors[n // 3 : 2 * n // 3],
                                             floors[2 * n // 3 :])]  # fmt: skip
            if lows[0] < lows[1] < lows[2] and lows[2] - lows[0] > FD_SLACK:
                findings.append(f"{kind} climbing {' → '.join(map(str, lows))}")
        return DescriptorVerdict(not findings, findings, pooled, fixed)


def print_report(
    samples: list[Sample], warm_up: int, notes: dict[str, str],
    bounds: Bounds,
) -> bool:  # fmt: skip
    """The verdict table; whether every verdict is yes."""
    after_warm_up, last = samples[warm_up], samples[-1]
    columns = [
        Column("component", 18, left=True),
        Column("RSS warm", 10),
        Column("RSS end", 10),
        Column("÷ warm", 8),
        Column("fds warm", 10),
        Column("fds end", 9),
        Column("ceiling", 9),
        Column("RSS flat", 10),
        Column("no fd leak", 12),
    ]
    rows: list[list[str]] = []
    every_yes = True
    verdicts: dict[str, DescriptorVerdict] = {}
    for name, warm in after_warm_up.components.items():
        end = last.components[name]
        rss_flat = end.rss_mib <= warm.rss_mib * RSS_SLACK[0] + RSS_SLACK[1]
        descriptors = DescriptorVerdict.judge(
            name, [s.components[name] for s in samples[warm_up:]], bounds
        )
        verdicts[name] = descriptors
        if name == LOG_IN_MEMORY:  # holds every event ever published: it must grow
            rss_verdict = "log"
        else:
            every_yes &= rss_flat
            rss_verdict = verdict(rss_flat)
        every_yes &= descriptors.no_leak
        rows.append(
            [
                name,
                f"{warm.rss_mib:.1f}",
                f"{end.rss_mib:.1f}",
                ratio(end.rss_mib, warm.rss_mib),
                str(warm.fds),
                str(end.fds),
                str(descriptors.fixed + descriptors.pooled),
                rss_verdict,
                verdict(descriptors.no_leak),
            ]
        )
    print()
    print_table(columns, rows)
    print(
        "RSS: the floor of the process tree's resident set over the interval (read "
        f"{READINGS_PER_INTERVAL} times);\nflat: at most 10 % + 8 MiB above the floor after "
        "warm-up."
        "\nThe broker keeps its log in memory (memory storage): it grows with "
        "every event by design, `log`."
        "\nfds: as last read; ceiling: every pool at its bound plus the highest floor of the "
        "other kinds;\nno fd leak: no pool past its bound, no other kind's lowest floor rising "
        f"from each third of the run after warm-up to the next, by more than {FD_SLACK} in all."
    )
    print(
        "\nDescriptors by kind, after warm-up → at the end (bound, set by); a kind whose floor"
        " moved, its floor per interval from warm-up on:"
    )
    for name, warm in after_warm_up.components.items():
        end = last.components[name]
        kinds = sorted(set(warm.last) | set(end.last), key=_kind_rank)
        figures = []
        for kind in kinds:
            bound = bounds.of(name, kind)
            limit = f" (≤{bound.count}, {bound.set_by})" if bound is not None else ""
            figures.append(f"{kind} {warm.last[kind]}→{end.last[kind]}{limit}")
        print(f"  {name:<18} {'  '.join(figures)}")
        judged = [s.components[name] for s in samples[warm_up:]]
        for kind in sorted({k for f in judged for k in f.floor}, key=_kind_rank):
            floors = [f.floor[kind] for f in judged]
            if len(set(floors)) > 1:
                print(f"  {'':<18} {kind}, floor per interval: {' '.join(map(str, floors))}")
        for finding in verdicts[name].findings:
            print(f"  {'':<18} leak? {finding}")
    first_p99 = (
        samples[warm_up + 1].traffic.percentile(0.99) if len(samples) > warm_up + 1 else None
    )
    last_p99 = last.traffic.percentile(0.99)
    if first_p99 is not None and last_p99 is not None:
        steady = last_p99 <= first_p99 * P99_SLACK[0] + P99_SLACK[1]
        every_yes &= steady
        print(
            f"\np99 after warm-up {first_p99:.0f} ms, at the end {last_p99:.0f} ms: "
            f"not drifting: {verdict(steady)}"
        )
    p99s = [s.traffic.percentile(0.99) for s in samples[1:]]
    listed = ", ".join("-" if p is None else f"{p:.0f}" for p in p99s)
    print(f"p99 per interval (ms; a request counts in the interval it started in): {listed}")
    errors = sum(s.traffic.errors for s in samples)
    requests = sum(len(s.traffic.latencies) for s in samples)
    print(f"requests {requests}, failed journeys {errors}")
    every_yes &= errors == 0
    print()
    print_notes(notes)
    return every_yes


def main() -> int:
    parser = bench_arguments(__doc__, timeout=1200)
    parser.add_argument("--minutes", type=float, default=10.0, help="traffic time (10)")
    parser.add_argument("--rate", type=float, default=2.0, help="journeys a second (2)")
    parser.add_argument("--in-flight", type=int, default=16, help="journeys at once, at most")
    parser.add_argument("--interval", type=float, help="seconds between samples (60; quick 4)")
    parser.add_argument(
        "--strangler", default=console_script("strangler"), help="the `strangler` to run"
    )
    arguments = parser.parse_args()
    minutes = 0.4 if arguments.quick else arguments.minutes
    interval = arguments.interval or (4.0 if arguments.quick else 60.0)
    warm_up = 2 if arguments.quick else 1
    if minutes * 60 < interval * (warm_up + 2):
        parser.error(f"--minutes must leave room for warm-up and two intervals of {interval:g} s")
    outcome: list[bool] = []
    bounds = Bounds(bench_connections=_bench_connections(arguments.in_flight))

    def measure(folder: Path, children: Children) -> None:
        load_before = load_average()
        state_dir = folder / "state"
        env = {**runner_env(state_dir), **KEEP_BILLING_ON_NEW}
        runner = children.start("runner", [arguments.strangler, "up"], env)
        pids = wait_until_running(state_dir, runner, children, "runner")
        gateway = f"http://{HOST}:{env['STRANGLER_GATEWAY_PORT']}"
        to_billing = [arguments.strangler, "flags", "set", "billing", "new", "--reason", "soak"]
        set_flag = subprocess.run(to_billing, env=env, capture_output=True, text=True, check=False)
        if set_flag.returncode != 0:
            raise BenchFailed(f"could not route billing to the service: {set_flag.stderr.strip()}")
        print(f"healthy; traffic for {minutes:g} min at {arguments.rate:g} journeys/s", flush=True)
        samples = asyncio.run(
            drive(
                gateway,
                pids,
                minutes=minutes,
                interval_seconds=interval,
                rate=arguments.rate,
                in_flight=arguments.in_flight,
                bounds=bounds,
            )
        )
        notes = machine_note(load_before)
        notes["traffic"] = (
            f"{minutes:g} min, {arguments.rate:g} journeys/s (6 requests each, more to sign up), "
            f"at most {arguments.in_flight} at once; sampled every {interval:g} s, "
            f"warm-up {warm_up} sample(s); the gateway's automatic rollback off"
        )
        outcome.append(print_report(samples, warm_up, notes, bounds))

    code = run_bench(measure, arguments.timeout, name="soak")
    # A quick run is a smoke run (`make test`): it must complete and print its verdicts.
    return code if code or all(outcome) or arguments.quick else 1


if __name__ == "__main__":
    sys.exit(main())
