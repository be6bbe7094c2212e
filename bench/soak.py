"""Does the system stay flat under steady traffic? Memory, descriptors, connections, p99.

    uv run --frozen python bench/soak.py [--minutes N] [--rate R] [--quick]

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
heard of the subscription yet — to the errors).

At the end of every interval it prints, per component (its process tree, as the runner
started it): RSS — its floor over the interval, read 10 times, and its peak (a leak raises
the floor; an argon2 password hash takes 64 MiB for a moment, the peak) —, open file
descriptors, and sockets among them (its connections, listening ones included); and for the
traffic: requests, errors (by cause), p50 and p99 latency. It ends with a verdict per
component (the broker's RSS excepted: it keeps its log in memory, so it grows with every
event by design):

- **RSS flat after warm-up**: the floor of the last interval at most 10 % + 8 MiB above the
  floor of the warm-up interval (imports, pools, caches filled by the first requests);
- **fds flat**: the last sample at most 8 descriptors above the one after warm-up;
- **p99 not drifting**: the p99 of the last interval at most 1.5 times that of the first
  interval after warm-up, + 20 ms.

Run it on a quiet machine: on a loaded one p99 moves with the neighbours, not with the code.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Mapping
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

MIB = 1024 * 1024
POLL_SECONDS = 0.1
REQUEST_TIMEOUT_SECONDS = 10.0
PASSWORD = "correct-horse-battery"
GOOD_CARD = "4242424242424242"
RSS_SLACK = (1.10, 8.0)
FD_SLACK = 8
P99_SLACK = (1.5, 20.0)
CUSTOMER_POOL = 12
NEW_CUSTOMER_SHARE = 0.05
LOGIN_SHARE = 0.05
READINGS_PER_INTERVAL = 10
UNKNOWN_CUSTOMER_RETRIES = 50
UNKNOWN_CUSTOMER_PAUSE_SECONDS = 0.2
LOG_IN_MEMORY = "broker"


@dataclass(frozen=True)
class Footprint:
    rss_mib: float
    fds: int
    sockets: int
    peak_mib: float = 0.0

    def over(self, readings: list[Footprint]) -> Footprint:
        """The floor of RSS over ``readings`` (and their peak), descriptors as last read.

        A leak raises the floor; a password hash (argon2: 64 MiB for a moment) only the peak.
        """
        everything = [*readings, self]
        return Footprint(
            min(r.rss_mib for r in everything),
            self.fds,
            self.sockets,
            max(max(r.rss_mib, r.peak_mib) for r in everything),
        )


def footprint(pid: int) -> Footprint:
    """RSS, descriptors and sockets of ``pid`` and everything it spawned."""
    pids = process_tree(pid)
    fds = sockets = 0
    for member in pids:
        folder = Path(f"/proc/{member}/fd")
        try:
            names = os.listdir(folder)
        except OSError:  # ended meanwhile
            continue
        for name in names:
            try:
                target = os.readlink(folder / name)
            except OSError:
                continue
            fds += 1
            sockets += target.startswith("socket:")
    return Footprint(resident_bytes(pids) / MIB, fds, sockets)


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
        await self._request(
            "POST",
            f"/api/billing/invoices/{created['invoice']['id']}/pay",
            201,
            json={"card_number": GOOD_CARD},
            headers={**auth, "Idempotency-Key": uuid.uuid4().hex},
        )
        await self._request("GET", "/api/billing/subscriptions", 200, headers=auth)
        await self._request("GET", "/api/billing/invoices", 200, headers=auth)
        await self._request(
            "POST", f"/api/billing/subscriptions/{created['subscription']['id']}/cancel", 200,
            headers=auth,
        )  # fmt: skip

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
) -> list[Sample]:
    samples = [Sample(0.0, {n: footprint(p) for n, p in pids.items()}, Traffic())]
    print_sample(samples[0])
    limits = httpx.Limits(max_connections=in_flight * 2, max_keepalive_connections=in_flight)
    async with httpx.AsyncClient(
        base_url=gateway, timeout=REQUEST_TIMEOUT_SECONDS, limits=limits
    ) as client:
        journeys = Journeys(client, in_flight)
        await journeys.sign_up_the_pool(CUSTOMER_POOL)
        print(f"{CUSTOMER_POOL} customers signed up; traffic starts", flush=True)
        loop = asyncio.get_running_loop()
        began = loop.time()
        ends = began + minutes * 60
        next_sample = began + interval_seconds
        read_every = interval_seconds / READINGS_PER_INTERVAL
        next_reading = began + read_every
        next_journey = began
        readings: dict[str, list[Footprint]] = {name: [] for name in pids}
        while loop.time() < ends:
            now = loop.time()
            if now >= next_journey:
                journeys.start_one()
                next_journey += 1 / rate
            if now >= next_reading:
                for name, pid in pids.items():
                    readings[name].append(await asyncio.to_thread(footprint, pid))
                next_reading += read_every
            if now >= next_sample:
                last = {n: await asyncio.to_thread(footprint, p) for n, p in pids.items()}
                sample = Sample(
                    (now - began) / 60,
                    {n: last[n].over(readings[n]) for n in pids},
                    journeys.interval_done(),
                )
                readings = {name: [] for name in pids}
                samples.append(sample)
                print_sample(sample)
                next_sample += interval_seconds
            wake = min(next_journey, next_sample, next_reading)
            await asyncio.sleep(max(0.0, wake - loop.time()))
        await journeys.drain(REQUEST_TIMEOUT_SECONDS * 8)
    return samples


def print_sample(sample: Sample) -> None:
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
            f"fds {figures.fds:4d}  sockets {figures.sockets:4d}",
            flush=True,
        )


def print_report(samples: list[Sample], warm_up: int, notes: dict[str, str]) -> bool:
    """The verdict table; whether every verdict is yes."""
    after_warm_up, last = samples[warm_up], samples[-1]
    columns = [
        Column("component", 18, left=True),
        Column("RSS warm", 10),
        Column("RSS end", 10),
        Column("÷ warm", 8),
        Column("fds warm", 10),
        Column("fds end", 9),
        Column("sockets", 9),
        Column("RSS flat", 10),
        Column("fds flat", 10),
    ]
    rows: list[list[str]] = []
    every_yes = True
    for name, warm in after_warm_up.components.items():
        end = last.components[name]
        rss_flat = end.rss_mib <= warm.rss_mib * RSS_SLACK[0] + RSS_SLACK[1]
        fds_flat = end.fds <= warm.fds + FD_SLACK
        if name == LOG_IN_MEMORY:  # holds every event ever published: it must grow
            rss_verdict = "log"
        else:
            every_yes &= rss_flat
            rss_verdict = verdict(rss_flat)
        every_yes &= fds_flat
        rows.append(
            [
                name,
                f"{warm.rss_mib:.1f}",
                f"{end.rss_mib:.1f}",
                ratio(end.rss_mib, warm.rss_mib),
                str(warm.fds),
                str(end.fds),
                f"{warm.sockets}→{end.sockets}",
                rss_verdict,
                verdict(fds_flat),
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
    )
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

    def measure(folder: Path, children: Children) -> None:
        load_before = load_average()
        state_dir = folder / "state"
        env = runner_env(state_dir)
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
            )
        )
        notes = machine_note(load_before)
        notes["traffic"] = (
            f"{minutes:g} min, {arguments.rate:g} journeys/s (6 requests each, more to sign up), "
            f"at most {arguments.in_flight} at once; sampled every {interval:g} s, "
            f"warm-up {warm_up} sample(s)"
        )
        outcome.append(print_report(samples, warm_up, notes))

    code = run_bench(measure, arguments.timeout, name="soak")
    # A quick run is a smoke run (`make test`): it must complete and print its verdicts.
    return code if code or all(outcome) or arguments.quick else 1


if __name__ == "__main__":
    sys.exit(main())
