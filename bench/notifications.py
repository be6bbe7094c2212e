"""How fast does an event become a mail at the SMTP server, compared with SMTP alone?

    .venv/bin/python bench/notifications.py [--mails N] [--rate R] [--duration S] [--quick]
                                            [--timeout S]

One run starts its own embedded broker (tansu, memory storage) and SMTP sink
(``smtp-sink serve``) on free ports, and measures two things against the same sink:

**Raw SMTP (the baseline).** This process sends N mails of the size the service writes,
one after another over one connection (aiosmtplib): mails/s, and the p50 / p99 of one
hand-over, from the send to the server's 250.

**Event to SMTP.** A real ``notifications-service serve`` process (SQLite file, sending on)
consumes ``UserRegistered`` events this process publishes to the broker; each becomes a
welcome mail recorded in the send ledger and handed to the sink by the sender (two commits
around each hand-over, see ``notifications_service.domain.mails``). Figures:

- mails/s, as fast as possible: N events published at once, from the first publish to the
  sink's acceptance of the last of their mails;
- latency p50 / p99 at a fixed rate R for S seconds, from the publish to the acceptance.

Acceptance times are the sink's ``received_at`` (its wall clock), publish times this
process's wall clock: one machine, one clock. The service's consumer group is joined (a
warm-up mail went through) before anything is timed.

Issue 14.6 names no target; the verdicts are this bench's own: a mail path that keeps up
with a demo's burst (>= 100 mails/s), with a p99 a person does not notice (<= 1000 ms at
--rate), and that costs at most 10x the raw SMTP rate.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from time import perf_counter

import aiosmtplib
import httpx
from embedded_broker import EmbeddedBroker
from harness import (
    HOST,
    BenchFailed,
    Children,
    Column,
    Target,
    bench_arguments,
    console_script,
    free_ports,
    last_resort_seconds,
    load_average,
    machine_note,
    print_notes,
    print_table,
    print_verdicts,
    run_bench,
)
from strangler_contracts import ALL_TOPICS, UserRegistered, encode
from strangler_eventing import BrokerConfig, create_producer, ensure_topics

SOURCE = "/bench"
OPERATOR_TOKEN = "bench-operator-token-0123456789"
PHASE_TIMEOUT_SECONDS = 120.0
POLL_SECONDS = 0.05
PAGE = 100
TARGET_RATE = 100.0
TARGET_P99_MS = 1000.0
MOST_COST = 10.0


@dataclass(frozen=True)
class Settings:
    mails: int
    rate: float
    duration: float
    timeout: float

    @property
    def paced_count(self) -> int:
        return max(2, round(self.rate * self.duration))


@dataclass(frozen=True)
class Figures:
    rate: float
    latencies: list[float]
    """Seconds, sorted."""
    paced_rate: float | None = None


def percentile(ordered: Sequence[float], pct: float) -> float:
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def registration(user_id: str) -> UserRegistered:
    return UserRegistered(
        user_id=user_id,
        email=f"{user_id}@bench.example",
        display_name="Bench Mark",
        registered_at=datetime.now(UTC),
    )


# ---------------------------------------------------------------- the SMTP sink


class SinkClient:
    """The sink's HTTP API: how many mails it holds, and when each address got its own."""

    def __init__(self, url: str) -> None:
        self.http = httpx.AsyncClient(base_url=url, timeout=10)

    async def count(self) -> int:
        response = await self.http.get("/messages", params={"limit": 1})
        response.raise_for_status()
        total: int = response.json()["total"]
        return total

    async def received(self) -> dict[str, datetime]:
        """When each recipient's (first) mail arrived."""
        arrivals: dict[str, datetime] = {}
        offset = 0
        while True:
            response = await self.http.get("/messages", params={"limit": PAGE, "offset": offset})
            response.raise_for_status()
            page = response.json()
            for item in page["items"]:
                at = datetime.fromisoformat(item["received_at"])
                for rcpt in item["rcpt_tos"]:
                    arrivals[rcpt] = min(at, arrivals.get(rcpt, at))
            offset += PAGE
            if offset >= page["total"]:
                return arrivals

    async def clear(self) -> None:
        (await self.http.delete("/messages")).raise_for_status()

    async def wait_for(self, count: int, service: Children) -> None:
        deadline = perf_counter() + PHASE_TIMEOUT_SECONDS
        while (held := await self.count()) < count:
            if perf_counter() > deadline:
                raise BenchFailed(
                    f"only {held} of {count} mails reached the sink:\n"
                    f"{service.tail('notifications')}"
                )
            await asyncio.sleep(POLL_SECONDS)


# ---------------------------------------------------------------- raw SMTP


def bench_mail(to: str) -> EmailMessage:
    """A mail the size of the service's welcome mail."""
    message = EmailMessage()
    message["From"] = "Strangler Fig <no-reply@strangler-fig.dev>"
    message["To"] = to
    message["Subject"] = "Welcome to Strangler Fig, Bench Mark"
    message["Message-ID"] = f"<{uuid.uuid4()}.welcome@bench.example>"
    message.set_content(
        f"Hello Bench Mark,\n\nyour account {to} is ready. Log in and pick a plan.\n"
    )
    return message


async def measure_raw_smtp(port: int, settings: Settings) -> Figures:
    client = aiosmtplib.SMTP(hostname=HOST, port=port, start_tls=False, use_tls=False)
    await client.connect()
    try:
        await client.send_message(bench_mail("warm-up@bench.example"))
        latencies: list[float] = []
        start = perf_counter()
        for i in range(settings.mails):
            sent = perf_counter()
            await client.send_message(bench_mail(f"raw-{i:06d}@bench.example"))
            latencies.append(perf_counter() - sent)
        rate = settings.mails / (perf_counter() - start)
    finally:
        await client.quit()
    return Figures(rate, sorted(latencies))


# ---------------------------------------------------------------- event to SMTP


async def measure_event_to_smtp(
    config: BrokerConfig, sink: SinkClient, settings: Settings, children: Children
) -> Figures:
    producer = create_producer(config)
    await producer.start()
    published: dict[str, datetime] = {}

    async def publish(user_id: str) -> None:
        envelope = encode(registration(user_id), source=SOURCE)
        published[f"{user_id}@bench.example"] = datetime.now(UTC)
        await producer.send_and_wait(
            envelope_topic, envelope.model_dump_json().encode(), key=user_id.encode()
        )

    envelope_topic = UserRegistered.topic
    try:
        await publish("warm-up")
        await sink.wait_for(1, children)  # the consumer group joined, the sender connected
        await sink.clear()
        published.clear()

        ids = [f"burst-{uuid.uuid4().hex[:8]}-{i:06d}" for i in range(settings.mails)]
        envelopes = [encode(registration(i), source=SOURCE) for i in ids]
        start_wall = datetime.now(UTC)
        sends = [
            await producer.send(envelope_topic, e.model_dump_json().encode(), key=i.encode())
            for i, e in zip(ids, envelopes, strict=True)
        ]
        await asyncio.gather(*sends)
        await sink.wait_for(settings.mails, children)
        arrivals = await sink.received()
        last = max(arrivals[f"{i}@bench.example"] for i in ids)
        rate = settings.mails / (last - start_wall).total_seconds()
        await sink.clear()

        paced_ids = [f"paced-{uuid.uuid4().hex[:8]}-{i:06d}" for i in range(settings.paced_count)]
        begun = perf_counter()
        for index, user_id in enumerate(paced_ids):
            delay = begun + index / settings.rate - perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await publish(user_id)
        paced_rate = (len(paced_ids) - 1) / (perf_counter() - begun)
        await sink.wait_for(len(paced_ids), children)
        arrivals = await sink.received()
        latencies = sorted(
            (arrivals[address] - published[address]).total_seconds()
            for address in (f"{i}@bench.example" for i in paced_ids)
        )
    finally:
        await producer.stop()
    return Figures(rate, latencies, paced_rate)


# ---------------------------------------------------------------- running it


def start_sink(children: Children, smtp_port: int, http_port: int) -> None:
    env = {**os.environ, "SMTP_SINK_MAX_MESSAGES": "100000"}
    argv = [console_script("smtp-sink"), "serve", "--host", HOST,
            "--smtp-port", str(smtp_port), "--http-port", str(http_port)]  # fmt: skip
    children.start("smtp-sink", argv, env)


def start_service(children: Children, folder: Path, port: int, broker: str, smtp_port: int) -> None:
    settings = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'notifications.db'}",
        "JWT_SECRET": "bench-secret-with-at-least-32-bytes!",
        "OPERATOR_TOKEN": OPERATOR_TOKEN,
        "KAFKA_BOOTSTRAP_SERVERS": broker,
        "SMTP_HOST": HOST,
        "SMTP_PORT": str(smtp_port),
        "SENDING": "on",
        "CONSUMER_GROUP": f"bench-{uuid.uuid4().hex[:8]}",
    }
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("NOTIFICATIONS_")}  # fmt: skip
    env.update({f"NOTIFICATIONS_{name}": value for name, value in settings.items()})
    argv = [console_script("notifications-service"), "serve", "--prepare",
            "--host", HOST, "--port", str(port)]  # fmt: skip
    children.start("notifications", argv, env)


async def wait_ready(url: str, name: str, children: Children) -> None:
    deadline = perf_counter() + PHASE_TIMEOUT_SECONDS
    async with httpx.AsyncClient(base_url=url, timeout=2) as client:
        while perf_counter() < deadline:
            try:
                if (await client.get("/health/ready")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise BenchFailed(f"{name} was not ready:\n{children.tail(name)}")


async def run(settings: Settings, folder: Path, children: Children) -> None:
    load_before = load_average()
    broker_port, smtp_port, sink_http, service_port = free_ports(4)
    broker = EmbeddedBroker(port=broker_port)
    broker.start()
    try:
        config = BrokerConfig(bootstrap_servers=broker.bootstrap_servers, client_id="bench")
        await ensure_topics(config, ALL_TOPICS)
        start_sink(children, smtp_port, sink_http)
        await wait_ready(f"http://{HOST}:{sink_http}", "smtp-sink", children)
        sink = SinkClient(f"http://{HOST}:{sink_http}")
        print(f"sink on {HOST}:{smtp_port}; raw SMTP baseline ...", flush=True)
        raw = await measure_raw_smtp(smtp_port, settings)
        await sink.clear()
        start_service(children, folder, service_port, broker.bootstrap_servers, smtp_port)
        await wait_ready(f"http://{HOST}:{service_port}", "notifications", children)
        print("event to SMTP through notifications-service ...", flush=True)
        path = await measure_event_to_smtp(config, sink, settings, children)
        await sink.http.aclose()
    finally:
        children.stop_all()
        broker.stop()
    report(settings, path, raw, load_before)


def report(settings: Settings, path: Figures, raw: Figures, load_before: str) -> None:
    def ms(seconds: float) -> str:
        return f"{seconds * 1000:.1f}"

    p50, p99 = percentile(path.latencies, 50), percentile(path.latencies, 99)
    raw_p50, raw_p99 = percentile(raw.latencies, 50), percentile(raw.latencies, 99)
    print()
    print_table(
        [Column("figure (one run, one sink)", 44, left=True), Column("event→SMTP", 12),
         Column("raw SMTP", 12), Column("ratio", 9)],
        [
            ("mails/s, as fast as possible", f"{path.rate:.1f}", f"{raw.rate:.1f}",
             f"{path.rate / raw.rate:.3f}"),
            (f"latency p50 (ms; event path at {settings.rate:g}/s)", ms(p50), ms(raw_p50),
             f"{p50 / raw_p50:.1f}"),
            (f"latency p99 (ms; event path at {settings.rate:g}/s)", ms(p99), ms(raw_p99),
             f"{p99 / raw_p99:.1f}"),
        ],
    )  # fmt: skip
    print("ratio = event→SMTP / raw SMTP: below 1 for rates, above 1 for latencies, is the cost")
    print("raw latency: one hand-over (send to 250); event latency: publish to the sink's 250")
    print()
    cost = raw.rate / path.rate
    print_verdicts(
        "target (this bench's own), event to SMTP",
        [
            Target("mails/s, as fast as possible", f"{path.rate:.0f}", f">= {TARGET_RATE:g}",
                   path.rate >= TARGET_RATE),
            Target(f"latency p99 at {settings.rate:g}/s (ms)", ms(p99), f"<= {TARGET_P99_MS:g}",
                   p99 * 1000 <= TARGET_P99_MS),
            Target("raw SMTP rate ÷ event-to-SMTP rate", f"{cost:.1f}", f"<= {MOST_COST:g}",
                   cost <= MOST_COST),
        ],
    )  # fmt: skip
    print()
    print_notes(
        {
            **machine_note(load_before),
            "workload": (
                f"{settings.mails} welcome mails for the rates; {settings.paced_count} at "
                f"{settings.rate:g}/s ({path.paced_rate or 0:.1f}/s achieved) for the latencies"
            ),
            "service": "notifications-service serve, SQLite (WAL), one sender on 4 SMTP "
            "connections (its defaults); the embedded broker (tansu, memory storage)",
        }
    )


def parse_arguments(argv: Sequence[str] | None = None) -> Settings:
    parser = bench_arguments(__doc__, timeout=300.0)
    parser.add_argument("--mails", type=int, help="mails for the rates (1000; quick 100)")
    parser.add_argument("--rate", type=float, default=5.0, help="events/s for the latencies")
    parser.add_argument("--duration", type=float, help="seconds at that rate (15; quick 3)")
    arguments = parser.parse_args(argv)
    mails = arguments.mails or (100 if arguments.quick else 1000)
    duration = arguments.duration or (3.0 if arguments.quick else 15.0)
    if mails < 2 or arguments.rate <= 0 or duration <= 0:
        parser.error("--mails must be at least 2; --rate and --duration must be positive")
    return Settings(mails, arguments.rate, duration, arguments.timeout)


def main() -> int:
    settings = parse_arguments()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    def measure(folder: Path, children: Children) -> None:
        asyncio.run(asyncio.wait_for(run(settings, folder, children), settings.timeout))

    return run_bench(measure, last_resort_seconds(settings.timeout), name="notifications")


if __name__ == "__main__":
    sys.exit(main())
