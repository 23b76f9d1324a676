"""``python -m bench`` (``make bench``): the hub against one department and a baseline.

Everything runs on loopback in separate processes, started and measured in this run:
the seven stand-ins (one process, each department answering after ``--latency-ms``),
the hub twice (aiohttp and httpx transports, caching off so every answer asks the
departments), and the hand-written aggregator in ``bench/baseline.py``. Reported as
ratios measured in the same run, never as absolute targets:

- fan-out: one household's full view (seven departments) against one department call;
- upstream calls made by one ``households(first: 50)`` query selecting every section;
- throughput of the full view under concurrency, against the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from adapters.vocabulary import District, Source
from bench import timing
from hub.demo import wait_healthy
from hub.settings import SANDBOX_CONTROL_PORT, SANDBOX_PORTS

HUB_PORTS = {"aiohttp": 8201, "httpx": 8202}
BASELINE_PORTS = {"aiohttp": 8203, "httpx": 8204}
SECTIONS = """id members { idNumber age } civilAffairs { enrollments { category status } }
  medical { totalOutOfPocket insured { scheme } } education { students { stage } }
  housing { dwellings { tenure } } employment { members { status } }
  disaster { impacts { damageLevel } } charity { totalAmount }"""
ONE = f"query($id: ID!) {{ household(id: $id) {{ {SECTIONS} }} }}"
LIST = f"{{ households(first: 50) {{ edges {{ node {{ {SECTIONS} }} }} }} }}"


@dataclass
class Figures:
    one_department_ms: float
    full_view_ms: float
    list_calls: dict[str, int]
    throughput: dict[str, Rate]
    timings: list[timing.Timing]


@contextmanager
def processes(env: dict[str, str]) -> Iterator[Callable[..., None]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(*args: str, **extra: str) -> None:
        started.append(
            subprocess.Popen([sys.executable, *args], env={**env, **extra})  # noqa: S603
        )

    try:
        yield start
    finally:
        for process in started:
            process.terminate()
        for process in started:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


async def wait_up(session: aiohttp.ClientSession, url: str) -> None:
    async with asyncio.timeout(60):
        while True:
            try:
                async with session.get(url) as response:
                    if response.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)


async def median_ms(call: Callable[[], Awaitable[None]], n: int) -> float:
    for _ in range(3):
        await call()  # warm connections and caches of the interpreter
    times = []
    for _ in range(n):
        started = time.perf_counter()
        await call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


@dataclass
class Rate:
    per_second: float  # answers that succeeded
    failed: int


async def throughput(
    call: Callable[[str], Awaitable[None]], ids: list[str], concurrency: int, seconds: float
) -> Rate:
    done = failed = 0
    stop = time.monotonic() + seconds
    rng = random.Random(1)

    async def worker() -> None:
        nonlocal done, failed
        while time.monotonic() < stop:
            try:
                await call(rng.choice(ids))
                done += 1
            except (RuntimeError, aiohttp.ClientError, TimeoutError):
                failed += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Rate(done / seconds, failed)


async def measure(
    args: argparse.Namespace, members: dict[str, list[str]], tokens: dict[str, dict[str, str]]
) -> Figures:
    headers = tokens["city caseworker"]
    ids = sorted(members)[:200]
    connector = aiohttp.TCPConnector(limit=args.concurrency * 2)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def graphql(port: int, query: str, **variables: str) -> None:
            url = f"http://127.0.0.1:{port}/graphql"
            body = {"query": query, "variables": variables}
            async with session.post(url, json=body, headers=headers) as r:
                body = await r.json()
                if r.status != 200 or body.get("errors"):
                    raise RuntimeError(f"hub answered {r.status}: {body.get('errors')}")

        async def baseline(port: int, household_id: str) -> None:
            url = f"http://127.0.0.1:{port}/household/{household_id}"
            async with session.get(url) as r:
                await r.read()
                if r.status != 200:
                    raise RuntimeError(f"baseline answered {r.status}")

        for port in HUB_PORTS.values():
            await wait_up(session, f"http://127.0.0.1:{port}/healthz")
        for port in BASELINE_PORTS.values():
            await wait_up(session, f"http://127.0.0.1:{port}/household/none")

        education = f"http://127.0.0.1:{SANDBOX_PORTS[Source.EDUCATION]}/api/students/lookup"
        sample = ids[0]

        async def one_department() -> None:
            async with session.post(education, json={"sfzhList": members[sample]}) as r:
                await r.read()

        one = await median_ms(one_department, args.samples)
        full = await median_ms(lambda: graphql(HUB_PORTS["aiohttp"], ONE, id=sample), args.samples)

        stats = f"http://127.0.0.1:{SANDBOX_CONTROL_PORT}/stats"
        async with session.delete(stats):
            pass
        await graphql(HUB_PORTS["aiohttp"], LIST)
        async with session.get(stats) as r:
            list_calls = {k: v for k, v in (await r.json()).items()}

        # A household outside the district of the first one, for the district caseworker.
        outside = next(h for h in sorted(members) if h[1:7] != ids[0][1:7])
        timings = await timing.measure(
            session,
            f"http://127.0.0.1:{HUB_PORTS['aiohttp']}/graphql",
            {k: v for k, v in tokens.items() if k != "city caseworker"},
            outside_household=outside,
            outside_member=members[outside][0],
            samples=args.samples * 4,
        )

        rates = {}
        for name, port in HUB_PORTS.items():
            rates[f"hub ({name} transport)"] = await throughput(
                lambda hid, port=port: graphql(port, ONE, id=hid),  # type: ignore[misc]
                ids,
                args.concurrency,
                args.seconds,
            )
        for name, port in BASELINE_PORTS.items():
            rates[f"baseline ({name} transport)"] = await throughput(
                lambda hid, port=port: baseline(port, hid),  # type: ignore[misc]
                ids,
                args.concurrency,
                args.seconds,
            )
    return Figures(one, full, list_calls, rates, timings)


def report(args: argparse.Namespace, f: Figures) -> str:
    base = f.throughput["baseline (aiohttp transport)"].per_second
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} with every department answering after "
        f"{args.latency_ms:g} ms, {args.size} households, {args.concurrency} concurrent "
        f"clients for {args.seconds:g} s per run, on {os.cpu_count()} cores shared by all "
        "processes.",
        "",
        "| measure | value | ratio |",
        "| --- | --- | --- |",
        f"| one department call (median) | {f.one_department_ms:.1f} ms | 1.00 |",
        f"| full household view, 7 departments (median) | {f.full_view_ms:.1f} ms | "
        f"{f.full_view_ms / f.one_department_ms:.2f} × one call |",
        f"| department calls for `households(first: 50)`, every section | "
        f"{sum(f.list_calls.values())} | "
        + ", ".join(f"{k.lower()} {v}" for k, v in f.list_calls.items())
        + " |",
    ]
    for name, rate in f.throughput.items():
        failed = f" ({rate.failed} failed)" if rate.failed else ""
        lines.append(
            f"| full-view throughput, {name} | {rate.per_second:.0f} req/s{failed} | "
            f"{rate.per_second / base:.2f} × baseline (aiohttp) |"
        )
    lines += timing.rows(f.timings)
    return "\n".join(lines) + "\n"


_AGENCY = ("--kind", "agency", "--department", "civil_affairs")


def _hub(env: dict[str, str], *args: str) -> str:
    """Run a ``hub`` command and return what it printed."""
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "hub.cli", *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def _client(env: dict[str, str], name: str, purpose: str, *options: str) -> dict[str, str]:
    """A new client's request headers (its token and purpose)."""
    slug = name.replace(" ", "-")
    _hub(env, "clients", "add", slug, *options)
    token = _hub(env, "tokens", "issue", slug, "--days", "1").split()[-1]
    return {"Authorization": f"Bearer {token}", "X-Purpose": purpose}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--samples", type=int, default=30)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        index = Path(tmp) / "bench.db"
        env = {
            **os.environ,
            "HUB_DATABASE_URL": f"sqlite+aiosqlite:///{index}",
            "HUB_LOG_LEVEL": "warning",
            "HUB_ENV": "production",
            "HUB_SECRET_KEY": secrets.token_urlsafe(32),
            # The benchmark measures the fan-out, not the rate limit.
            "HUB_RATE_LIMIT_PER_MINUTE": "100000000",
            "HUB_RATE_LIMIT_BURST": "1000000",
            **{f"HUB_{s.name}__CACHE_TTL": "0" for s in Source},
        }
        faults = [f"--fault={s.value}:latency_ms={args.latency_ms}" for s in Source]
        with processes(env) as start:
            start("-m", "hub.cli", "sandbox", "--size", str(args.size), *faults)
            wait_healthy(list(SANDBOX_PORTS.values()))
            for step in (["db", "upgrade"], ["sync"]):
                _hub(env, *step)
            from bench.baseline import load_members

            members = load_members(str(index))
            first_district = District.from_code(min(members)[1:7]).name.lower()
            tokens = {
                name: _client(env, name, purpose, *options)
                for name, purpose, options in (
                    ("city caseworker", "CASE_MANAGEMENT", _AGENCY),
                    (
                        "district caseworker",
                        "CASE_MANAGEMENT",
                        (*_AGENCY, "--district", first_district),
                    ),
                    ("charity", "CHARITY_MATCHING", ("--kind", "charity", "--organisation", "o1")),
                    ("partner", "CROSS_REGION_CHECK", ("--kind", "partner")),
                )
            }
            for kind, port in HUB_PORTS.items():
                start("-m", "hub.cli", "serve", HUB_PORT=str(port), HUB_HTTP_TRANSPORT=kind)
            for kind, port in BASELINE_PORTS.items():
                start(
                    "-m",
                    "bench.baseline",
                    BENCH_PORT=str(port),
                    BENCH_TRANSPORT=kind,
                    BENCH_INDEX_PATH=str(index),
                )
            figures = asyncio.run(measure(args, members, tokens))
    text = report(args, figures)
    print(text)
    Path(__file__).with_name("latest.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
