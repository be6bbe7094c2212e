"""How fast does the auth service log people in and check their tokens, beside the raw work?

    .venv/bin/python bench/auth.py [--logins N] [--verifications N] [--concurrency C]
                                   [--quick] [--timeout S]

One run starts ``auth-service`` as a real process (``serve --prepare`` on a SQLite file in a
temporary folder, a free 127.0.0.1 port, production password parameters: argon2-cffi's
defaults, argon2id 64 MiB, 3 passes, 4 lanes), registers a few users, and measures:

- **logins**: N ``POST /api/auth/login`` from C concurrent clients: logins/s, p50 and p99.
  Beside it, in the same run and this process, the raw rate of ``argon2.PasswordHasher()
  .verify`` of one of those users' hash, one at a time: a login is one verification plus the
  web stack, the database and the signing, so logins/s ÷ verifications/s says what the rest
  costs (a process verifies on its event loop, so one process's ceiling is the raw rate);
- **token verification at auth**: ``strangler_tokens.TokenVerifier.verify`` of a real access
  token against auth's published key set (fetched over HTTP from the running process, then
  cached), N times, beside raw ``jwt.decode`` of the same token with the same public key in
  the same run: what the shared verifier's checks cost on top of the signature;
- ``GET /api/users/me`` with that token, N requests from C clients: a verified request end
  to end (verification, the user, the session check).

The gateway's figure (verification at the edge, ``auth-at-edge``) belongs to bench/gateway.py.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import jwt
from argon2 import PasswordHasher
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
    ratio,
    run_bench,
)
from strangler_tokens import JwksKeys, TokenVerifier

PASSWORD = "bench-password-of-some-length"
OPERATOR_TOKEN = "bench-auth-operator-token-0123456789"
READY_TIMEOUT_SECONDS = 60.0
USERS = 4
LOGINS_VS_HASHES_TARGET = 0.8
"""Our target: the web stack, the database and the signing cost under a fifth of a login."""
VERIFY_VS_DECODE_TARGET = 0.5
"""Our target: the shared verifier's checks cost at most as much again as jwt.decode."""


@dataclass(frozen=True)
class Settings:
    logins: int
    verifications: int
    concurrency: int
    timeout: float


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: float
    latencies: list[float]

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float | None:
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _timed_loop(count: int, step: Callable[[], object]) -> Rate:
    latencies = []
    started = time.perf_counter()
    for _ in range(count):
        one = time.perf_counter()
        step()
        latencies.append(time.perf_counter() - one)
    return Rate(count, time.perf_counter() - started, latencies)


async def _timed_async_loop(count: int, step: Callable[[], Awaitable[object]]) -> Rate:
    latencies = []
    started = time.perf_counter()
    for _ in range(count):
        one = time.perf_counter()
        await step()
        latencies.append(time.perf_counter() - one)
    return Rate(count, time.perf_counter() - started, latencies)


async def _concurrently(
    count: int, concurrency: int, request: Callable[[], Awaitable[int]]
) -> Rate:
    """``count`` requests from ``concurrency`` clients; every answer must be a 200."""
    latencies: list[float] = []
    remaining = count

    async def client() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            one = time.perf_counter()
            status = await request()
            latencies.append(time.perf_counter() - one)
            if status != 200:
                raise BenchFailed(f"a request answered {status}, not 200")

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return Rate(count, time.perf_counter() - started, latencies)


def _start(folder: Path, children: Children) -> str:
    (port,) = free_ports(1)
    env = {
        **os.environ,
        "AUTH_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'auth.db'}",
        "AUTH_OPERATOR_TOKEN": OPERATOR_TOKEN,
    }
    argv = [console_script("auth-service"), "serve", "--prepare", "--host", HOST,
            "--port", str(port)]  # fmt: skip
    process = children.start("auth", argv, env)
    url = f"http://{HOST}:{port}"
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchFailed(f"auth exited with {process.returncode}:\n{children.tail('auth')}")
        try:
            if httpx.get(f"{url}/health/ready", timeout=2).status_code == 200:
                return url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise BenchFailed(f"auth not ready after {READY_TIMEOUT_SECONDS:g} s:\n{children.tail('auth')}")


async def _measure(url: str, settings: Settings) -> dict[str, Rate]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        emails = [f"bench-{n}-{time.time_ns()}@example.com" for n in range(USERS)]
        for email in emails:
            answer = await client.post(
                "/api/users", json={"email": email, "password": PASSWORD, "name": "Bench"}
            )
            if answer.status_code != 201:
                raise BenchFailed(f"registering answered {answer.status_code}: {answer.text}")
        turn = iter(range(10**9))

        async def log_in() -> int:
            email = emails[next(turn) % len(emails)]
            answer = await client.post(
                "/api/auth/login", json={"email": email, "password": PASSWORD}
            )
            return answer.status_code

        await log_in()
        logins = await _concurrently(settings.logins, settings.concurrency, log_in)
        token = (
            await client.post("/api/auth/login", json={"email": emails[0], "password": PASSWORD})
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}

        async def read_me() -> int:
            return (await client.get("/api/users/me", headers=headers)).status_code

        await read_me()
        me = await _concurrently(settings.verifications, settings.concurrency, read_me)

        keys = JwksKeys(f"{url}/.well-known/jwks.json")
        verifier = TokenVerifier(keys)
        try:
            verified = await verifier.verify(token)
            verifications = await _timed_async_loop(
                settings.verifications, lambda: verifier.verify(token)
            )
            public_key = await keys.key(jwt.get_unverified_header(token)["kid"])
        finally:
            await verifier.aclose()
    if verified.subject is None or public_key is None:
        raise BenchFailed("the token did not verify")
    decodes = _timed_loop(
        settings.verifications,
        lambda: jwt.decode(token, public_key, algorithms=["EdDSA"], audience="strangler-fig",
                           issuer="strangler-fig-auth"),
    )  # fmt: skip
    return {"logins": logins, "me": me, "verify": verifications, "decode": decodes}


def _raw_hashes(count: int) -> Rate:
    hasher = PasswordHasher()
    stored = hasher.hash(PASSWORD)
    return _timed_loop(count, lambda: hasher.verify(stored, PASSWORD))


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f}"


def measure(settings: Settings, folder: Path, children: Children) -> None:
    load_before = load_average()
    url = _start(folder, children)
    rates = asyncio.run(asyncio.wait_for(_measure(url, settings), settings.timeout))
    hashes = _raw_hashes(max(5, settings.logins // 2))
    logins, me, verify, decode = rates["logins"], rates["me"], rates["verify"], rates["decode"]

    print(f"\nauth: one process, SQLite, {settings.concurrency} concurrent clients\n")
    print_table(
        [Column("figure", 34, left=True), Column("per s", 10), Column("p50 ms", 9),
         Column("p99 ms", 9), Column("baseline per s", 16), Column("ratio", 8)],
        [
            ("logins (POST /api/auth/login)", f"{logins.per_second:.1f}",
             _ms(logins.percentile(0.5)), _ms(logins.percentile(0.99)),
             f"{hashes.per_second:.1f}", ratio(logins.per_second, hashes.per_second)),
            ("raw argon2id verify (baseline)", f"{hashes.per_second:.1f}",
             _ms(hashes.percentile(0.5)), _ms(hashes.percentile(0.99)), "-", "-"),
            ("TokenVerifier.verify at auth", f"{verify.per_second:.0f}",
             _ms(verify.percentile(0.5)), _ms(verify.percentile(0.99)),
             f"{decode.per_second:.0f}", ratio(verify.per_second, decode.per_second)),
            ("raw jwt.decode EdDSA (baseline)", f"{decode.per_second:.0f}",
             _ms(decode.percentile(0.5)), _ms(decode.percentile(0.99)), "-", "-"),
            ("GET /api/users/me (verified)", f"{me.per_second:.0f}",
             _ms(me.percentile(0.5)), _ms(me.percentile(0.99)),
             f"{decode.per_second:.0f}", ratio(me.per_second, decode.per_second)),
        ],
    )  # fmt: skip
    print("\nratio = figure ÷ its same-run baseline\n")
    print_verdicts(
        "target",
        [
            Target("logins ÷ raw argon2id verifies", ratio(logins.per_second, hashes.per_second),
                   f">= {LOGINS_VS_HASHES_TARGET}",
                   logins.per_second >= LOGINS_VS_HASHES_TARGET * hashes.per_second),
            Target("TokenVerifier ÷ raw jwt.decode", ratio(verify.per_second, decode.per_second),
                   f">= {VERIFY_VS_DECODE_TARGET}",
                   verify.per_second >= VERIFY_VS_DECODE_TARGET * decode.per_second),
        ],
    )  # fmt: skip
    print()
    print_notes(
        {
            "counts": f"{logins.count} logins, {verify.count} verifications and reads, "
            f"{hashes.count} raw verifies",
            "median me": f"{statistics.median(me.latencies) * 1000:.1f} ms",
            **machine_note(load_before),
        }
    )


def main() -> int:
    parser = bench_arguments(__doc__, timeout=600)
    parser.add_argument("--logins", type=int, default=200)
    parser.add_argument("--verifications", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=8)
    arguments = parser.parse_args()
    settings = Settings(
        logins=20 if arguments.quick else arguments.logins,
        verifications=300 if arguments.quick else arguments.verifications,
        concurrency=arguments.concurrency,
        timeout=arguments.timeout,
    )
    return run_bench(
        lambda folder, children: measure(settings, folder, children),
        last_resort_seconds(settings.timeout),
        name="auth",
    )


if __name__ == "__main__":
    sys.exit(main())
